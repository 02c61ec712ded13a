// Matches messages to transactions (RFC 3261 §17.1.3, §17.2.3) and hands the rest to the core:
// new requests with their server transaction, ACKs of 2xx, and responses no transaction owns.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { formatVia, parseCSeq, parseNameAddr, parseVia } from '../sip/headers.js';
import { isSipRequest, SipHeaders, type SipMessage, type SipRequest, type SipResponse } from '../sip/message.js';
import type { SipEndpoint, SipTransport } from '../transport/SipTransport.js';
import { ClientTransaction } from './ClientTransaction.js';
import { ServerTransaction } from './ServerTransaction.js';
import type { SipTimers } from './SipTimers.js';

const MAGIC_COOKIE = 'z9hG4bK';

export interface TransactionLayerEvents {
  /** A new request (not a retransmission) with the server transaction that must answer it. */
  request: [request: SipRequest, transaction: ServerTransaction];
  /** An ACK that matched no INVITE server transaction: the ACK of a 2xx, for the dialog. */
  ack: [ack: SipRequest, source: SipEndpoint];
  /** A response that matched no client transaction (a late 2xx, a stray). */
  response: [response: SipResponse, source: SipEndpoint];
}

export function newBranch(): string {
  return `${MAGIC_COOKIE}${randomBytes(9).toString('base64url')}`;
}

export class TransactionLayer extends EventEmitter<TransactionLayerEvents> {
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();

  constructor(
    private readonly transport: SipTransport,
    private readonly timers: SipTimers,
    private readonly logger: Logger,
  ) {
    super();
    transport.on('message', (message, source) => this.#receive(message, source));
  }

  /**
   * Starts a client transaction. A request without Via gets ours with a new branch (and rport);
   * a CANCEL carries the Via of the INVITE it cancels.
   */
  sendRequest(request: SipRequest, destination: SipEndpoint): ClientTransaction {
    this.#addVia(request, destination);
    const transaction = new ClientTransaction(request, destination, this.transport, this.timers);
    const key = clientKey(request.headers.get('Via') ?? '', request.method);
    this.#clients.set(key, transaction);
    transaction.on('terminated', () => this.#clients.delete(key));
    transaction.start();
    return transaction;
  }

  /**
   * A request outside any transaction — the ACK of a 2xx (RFC 3261 §13.2.2.4): our Via with a new
   * branch (kept when the same ACK is sent again for a retransmitted 2xx), then the transport.
   */
  sendWithoutTransaction(request: SipRequest, destination: SipEndpoint): Promise<void> {
    this.#addVia(request, destination);
    return this.transport.sendRequest(request, destination);
  }

  #addVia(request: SipRequest, destination: SipEndpoint): void {
    if (request.headers.has('Via')) return;
    const local = this.transport.local(destination.protocol);
    const via = formatVia({ transport: destination.protocol.toUpperCase(), host: local.host, port: local.port, branch: newBranch(), rport: true, params: {} });
    prependHeader(request, 'Via', via);
  }

  /** The INVITE server transaction a CANCEL refers to (same branch and sent-by, RFC 3261 §9.2). */
  inviteTransactionFor(cancel: SipRequest): ServerTransaction | undefined {
    return this.#servers.get(serverKey(cancel, 'INVITE'));
  }

  close(): void {
    for (const transaction of [...this.#clients.values()]) transaction.terminate();
    for (const transaction of [...this.#servers.values()]) transaction.terminate();
  }

  #receive(message: SipMessage, source: SipEndpoint): void {
    if (!isSipRequest(message)) {
      const transaction = this.#clients.get(clientKey(message.headers.get('Via') ?? '', parseCSeq(message.headers.get('CSeq') ?? '').method));
      if (transaction) transaction.receive(message);
      else this.emit('response', message, source);
      return;
    }
    const existing = this.#servers.get(serverKey(message, message.method === 'ACK' ? 'INVITE' : message.method));
    if (message.method === 'ACK') {
      if (existing && existing.state === 'completed') existing.receiveAck();
      else if (!existing || existing.state === 'accepted') this.emit('ack', message, source);
      return;
    }
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    const transaction = new ServerTransaction(message, source, this.transport, this.timers, this.logger);
    const key = serverKey(message, message.method);
    this.#servers.set(key, transaction);
    transaction.on('terminated', () => this.#servers.delete(key));
    this.emit('request', message, transaction);
  }
}

function prependHeader(request: SipRequest, name: string, value: string): void {
  request.headers = new SipHeaders([[name, value], ...[...request.headers].map(({ name: other, value: text }) => [other, text] as const)]);
}

function clientKey(topVia: string, method: string): string {
  const branch = parseVia(topVia).branch ?? '';
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

/** RFC 3261 §17.2.3, and its RFC 2543 fallback (no magic cookie) on Call-ID, CSeq and From tag. */
function serverKey(request: SipRequest, method: string): string {
  const via = parseVia(request.headers.get('Via') ?? '');
  const sentBy = `${via.host}:${via.port ?? 5060}`;
  if (via.branch?.startsWith(MAGIC_COOKIE)) return `${via.branch}|${sentBy}|${method}`;
  const from = parseNameAddr(request.headers.get('From') ?? '', 'From').params['tag'] ?? '';
  const cseq = parseCSeq(request.headers.get('CSeq') ?? '').seq;
  return `2543|${request.headers.get('Call-ID')}|${cseq}|${from}|${via.branch ?? ''}|${sentBy}|${method}`;
}
