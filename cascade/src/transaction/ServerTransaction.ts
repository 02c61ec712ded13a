// RFC 3261 §17.2 server transactions, with RFC 6026's Accepted state for INVITE: after a 2xx the
// transaction absorbs retransmitted INVITEs while the UAS core retransmits the 2xx itself.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { responseTo, type SipRequest, type SipResponse } from '../sip/message.js';
import type { SipEndpoint, SipTransport } from '../transport/SipTransport.js';
import { Retransmitter, transactionTimeout, type SipTimers } from './SipTimers.js';

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface ServerTransactionEvents {
  /** Timer H fired: the ACK of our failure response never came. */
  timeout: [];
  /** The response could not be sent. */
  transportError: [error: Error];
  terminated: [];
}

export class ServerTransaction extends EventEmitter<ServerTransactionEvents> {
  readonly method: string;
  state: ServerTransactionState;
  #lastResponse?: SipResponse;
  #retransmitter?: Retransmitter;
  #timer?: NodeJS.Timeout;

  constructor(
    readonly request: SipRequest,
    readonly source: SipEndpoint,
    private readonly transport: SipTransport,
    private readonly timers: SipTimers,
    private readonly logger: Logger,
  ) {
    super();
    this.method = request.method;
    this.state = this.method === 'INVITE' ? 'proceeding' : 'trying';
    // §17.2.1: answer an INVITE with 100 Trying at once, so the client stops retransmitting.
    if (this.method === 'INVITE') this.respond(responseTo(request, 100));
  }

  get finalResponseSent(): boolean {
    return (this.#lastResponse?.status ?? 0) >= 200;
  }

  /** The TU's response; ignored (and logged) once a final response was sent. */
  respond(response: SipResponse): void {
    if (this.finalResponseSent || this.state === 'terminated') {
      this.logger.warn({ status: response.status, method: this.method, callId: this.request.headers.get('Call-ID') }, 'response after the final response dropped');
      return;
    }
    this.#lastResponse = response;
    this.#send(response);
    const { status } = response;
    if (status < 200) {
      this.state = 'proceeding';
      return;
    }
    const reliable = this.source.protocol !== 'udp';
    if (this.method !== 'INVITE') {
      this.state = 'completed';
      this.#after(reliable ? 0 : transactionTimeout(this.timers), () => this.terminate());
      return;
    }
    if (status < 300) {
      this.state = 'accepted';
      this.#after(transactionTimeout(this.timers), () => this.terminate());
      return;
    }
    this.state = 'completed';
    if (!reliable) {
      this.#retransmitter = new Retransmitter(this.timers.t1, this.timers.t2, () => this.#send(response));
      this.#retransmitter.start();
    }
    this.#after(transactionTimeout(this.timers), () => {
      this.emit('timeout');
      this.terminate();
    });
  }

  /** The same request again: resend the last response (not a 2xx: the core retransmits those). */
  receiveRetransmission(): void {
    if (this.#lastResponse && this.state !== 'accepted' && this.state !== 'confirmed') this.#send(this.#lastResponse);
  }

  /** An ACK matching this INVITE transaction (the ACK of our failure response). */
  receiveAck(): void {
    if (this.state !== 'completed') return;
    this.state = 'confirmed';
    this.#retransmitter?.stop();
    this.#after(this.source.protocol === 'udp' ? this.timers.t4 : 0, () => this.terminate());
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.#retransmitter?.stop();
    clearTimeout(this.#timer);
    this.emit('terminated');
  }

  #after(ms: number, action: () => void): void {
    clearTimeout(this.#timer);
    if (ms === 0) action();
    else this.#timer = setTimeout(action, ms);
  }

  #send(response: SipResponse): void {
    this.transport.sendResponse(response, this.source).catch((error: unknown) => {
      this.logger.warn({ err: error, callId: this.request.headers.get('Call-ID') }, 'could not send a SIP response');
      this.emit('transportError', error instanceof Error ? error : new Error(String(error)));
    });
  }
}
