// RFC 3261 §17.1 client transactions, with RFC 6026's Accepted state for INVITE (2xx
// retransmissions reach the TU, which ACKs them, until Timer M).
import { EventEmitter } from 'node:events';
import { SipHeaders, type SipRequest, type SipResponse } from '../sip/message.js';
import type { SipEndpoint, SipTransport } from '../transport/SipTransport.js';
import { Retransmitter, transactionTimeout, type SipTimers } from './SipTimers.js';

export type ClientTransactionState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface ClientTransactionEvents {
  /** Every response the TU should see: provisional, final, and 2xx retransmissions of an INVITE. */
  response: [response: SipResponse];
  /** Timer B or F fired: no final response (the TU treats it as 408). */
  timeout: [];
  /** The request could not be sent (TCP connection refused…): the TU treats it as 503. */
  transportError: [error: Error];
  terminated: [];
}

export class ClientTransaction extends EventEmitter<ClientTransactionEvents> {
  readonly method: string;
  state: ClientTransactionState;
  readonly #retransmitter?: Retransmitter;
  #timeout?: NodeJS.Timeout;
  #linger?: NodeJS.Timeout;
  #ack?: SipRequest;

  constructor(
    readonly request: SipRequest,
    readonly destination: SipEndpoint,
    private readonly transport: SipTransport,
    private readonly timers: SipTimers,
  ) {
    super();
    this.method = request.method;
    this.state = this.method === 'INVITE' ? 'calling' : 'trying';
    if (destination.protocol === 'udp') {
      const cap = this.method === 'INVITE' ? Number.POSITIVE_INFINITY : timers.t2;
      this.#retransmitter = new Retransmitter(timers.t1, cap, () => this.#send(this.request));
    }
  }

  start(): void {
    this.#send(this.request);
    this.#retransmitter?.start();
    this.#timeout = setTimeout(() => {
      this.#retransmitter?.stop();
      if (this.state === 'accepted' || this.state === 'completed') return;
      this.emit('timeout');
      this.terminate();
    }, transactionTimeout(this.timers));
  }

  receive(response: SipResponse): void {
    if (this.state === 'terminated') return;
    const { status } = response;
    if (this.state === 'completed') {
      if (this.#ack && status >= 300) this.#send(this.#ack);
      return;
    }
    if (this.state === 'accepted') {
      if (status >= 200 && status < 300) this.emit('response', response);
      return;
    }
    if (status < 200) {
      if (this.method === 'INVITE') {
        // Timer B only runs in Calling; a ringing INVITE waits for its TU to CANCEL.
        this.#retransmitter?.stop();
        clearTimeout(this.#timeout);
      } else this.#retransmitter?.capAtMaximum();
      this.state = 'proceeding';
      this.emit('response', response);
      return;
    }
    this.#retransmitter?.stop();
    clearTimeout(this.#timeout);
    const reliable = this.destination.protocol !== 'udp';
    if (this.method === 'INVITE' && status < 300) {
      this.state = 'accepted';
      this.emit('response', response);
      this.#lingerThenTerminate(transactionTimeout(this.timers));
      return;
    }
    this.state = 'completed';
    if (this.method === 'INVITE') {
      this.#ack = ackForFailure(this.request, response);
      this.#send(this.#ack);
      this.emit('response', response);
      this.#lingerThenTerminate(reliable ? 0 : 32_000 * (this.timers.t1 / 500));
      return;
    }
    this.emit('response', response);
    this.#lingerThenTerminate(reliable ? 0 : this.timers.t4);
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.#retransmitter?.stop();
    clearTimeout(this.#timeout);
    clearTimeout(this.#linger);
    this.emit('terminated');
  }

  #lingerThenTerminate(ms: number): void {
    if (ms === 0) {
      this.terminate();
      return;
    }
    this.#linger = setTimeout(() => this.terminate(), ms);
  }

  #send(message: SipRequest): void {
    this.transport.sendRequest(message, this.destination).catch((error: unknown) => {
      if (this.state === 'terminated') return;
      this.emit('transportError', error instanceof Error ? error : new Error(String(error)));
      this.terminate();
    });
  }
}

/** RFC 3261 §17.1.1.3: the ACK of a non-2xx final response belongs to the INVITE transaction. */
function ackForFailure(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new SipHeaders();
  headers.append('Via', invite.headers.get('Via') ?? '');
  for (const route of invite.headers.getAll('Route')) headers.append('Route', route);
  headers.append('Max-Forwards', '70');
  headers.append('From', invite.headers.get('From') ?? '');
  headers.append('To', response.headers.get('To') ?? '');
  headers.append('Call-ID', invite.headers.get('Call-ID') ?? '');
  headers.append('CSeq', `${(invite.headers.get('CSeq') ?? '').trim().split(/\s+/)[0]} ACK`);
  return { method: 'ACK', uri: invite.uri, rawUri: invite.rawUri, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}
