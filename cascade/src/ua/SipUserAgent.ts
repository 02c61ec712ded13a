// The SIP endpoint of the cascade: owns the transport, the transaction layer, calls,
// registrations and keep-alives, and routes each request to the call it belongs to (RFC 3261 §8.2, §12.2.2).
import type { Logger } from 'pino';
import { dialogKeyOfRequest } from '../dialog/Dialog.js';
import { parseCSeq, parseNameAddr } from '../sip/headers.js';
import { responseTo, type SipRequest, type SipResponse } from '../sip/message.js';
import { formatSipUri, parseSipUri, type SipUri } from '../sip/uri.js';
import type { ClientTransaction } from '../transaction/ClientTransaction.js';
import type { ServerTransaction } from '../transaction/ServerTransaction.js';
import { DEFAULT_SIP_TIMERS, type SipTimers } from '../transaction/SipTimers.js';
import { TransactionLayer } from '../transaction/TransactionLayer.js';
import { SipTransport, type SipEndpoint, type SipListen, type SipProtocol, type SipTlsOptions } from '../transport/SipTransport.js';
import { IncomingCall } from './IncomingCall.js';
import { KeepAlive, sendOptions } from './KeepAlive.js';
import { localResponse, placeCall, type InviteOptions } from './placeCall.js';
import { Registration, type RegistrationOptions } from './Registration.js';
import type { SipCall } from './SipCall.js';
import { intervalTooSmall, type SessionTimerOptions } from './sessionTimer.js';
import { ALLOWED_METHODS, SUPPORTED_EXTENSIONS, type UaContext } from './UaContext.js';

export interface SipUserAgentOptions {
  /** Where we listen (default UDP 127.0.0.1:5060). */
  transports?: SipListen[];
  logger: Logger;
  /** User-Agent and Server header value (default `cityconf`). */
  userAgent?: string;
  /** The user part of our Contact (default `cityconf`). */
  contactUser?: string;
  /** The host written in Via and Contact when we listen on 0.0.0.0 (default: the listening host). */
  advertisedHost?: string;
  timers?: Partial<SipTimers>;
  sessionTimers?: SessionTimerOptions;
  /** An INVITE the application neither accepts nor rejects in time is refused with 480 (default 120 s). */
  answerTimeoutMs?: number;
  tcpIdleMs?: number;
  /** SIP over TLS: our certificate (to listen on `tls`) and the CAs peers' certificates chain to. */
  tls?: SipTlsOptions;
}

export type InviteHandler = (incoming: IncomingCall) => void | Promise<void>;

/** Methods we know but do not serve outside a dialog (405 rather than 501). */
const KNOWN_METHODS = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH', 'PRACK']);
const IN_DIALOG_ONLY = new Set(['BYE', 'INFO', 'UPDATE', 'PRACK']);
/** close() waits at most this long for the BYEs of open calls. */
const CLOSE_WAIT_MS = 2000;

export class SipUserAgent {
  readonly #context: UaContext;
  readonly #transport: SipTransport;
  readonly #layer: TransactionLayer;
  readonly #logger: Logger;
  readonly #answerTimeoutMs: number;
  readonly #calls = new Map<string, SipCall>();
  readonly #incoming = new Map<ServerTransaction, IncomingCall>();
  readonly #registrations = new Set<Registration>();
  readonly #keepAlives = new Set<KeepAlive>();
  #inviteHandler?: InviteHandler;
  #closed = false;

  private constructor(transport: SipTransport, options: SipUserAgentOptions) {
    this.#transport = transport;
    this.#logger = options.logger;
    this.#answerTimeoutMs = options.answerTimeoutMs ?? 120_000;
    const timers = { ...DEFAULT_SIP_TIMERS, ...options.timers };
    this.#layer = new TransactionLayer(transport, timers, options.logger);
    const contactUser = options.contactUser ?? 'cityconf';
    const layer = this.#layer;
    this.#context = {
      transport,
      layer,
      logger: options.logger,
      timers,
      sessionTimer: { minSE: options.sessionTimers?.minSE ?? 90, secondMs: options.sessionTimers?.secondMs ?? 1000 },
      userAgent: options.userAgent ?? 'cityconf',
      contact: (protocol, user = contactUser) => {
        const local = transport.local(protocol);
        const host = options.advertisedHost ?? local.host;
        const uri: SipUri = { scheme: 'sip', user, host, port: local.port, params: local.protocol === 'udp' ? {} : { transport: local.protocol }, headers: {} };
        return `<${formatSipUri(uri)}>`;
      },
      send: (request, destination, onResponse) => sendAndWait(layer, request, destination, onResponse),
    };
    this.#layer.on('request', (request, transaction) => this.#onRequest(request, transaction));
    this.#layer.on('ack', (ack) => this.#onAck(ack));
    this.#layer.on('response', (response, source) => this.#onStrayResponse(response, source));
  }

  static async start(options: SipUserAgentOptions): Promise<SipUserAgent> {
    const transport = await SipTransport.listen(options.transports ?? [{ protocol: 'udp', host: '127.0.0.1', port: 5060 }], {
      logger: options.logger,
      tcpIdleMs: options.tcpIdleMs,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    return new SipUserAgent(transport, options);
  }

  /** Our listening address for `protocol`. */
  local(protocol: SipProtocol): { protocol: SipProtocol; host: string; port: number } {
    return this.#transport.local(protocol);
  }

  get calls(): SipCall[] {
    return [...this.#calls.values()];
  }

  /** Handles new calls; without a handler INVITEs are refused with 480. */
  onInvite(handler: InviteHandler): void {
    this.#inviteHandler = handler;
  }

  /** Calls `target`; resolves once answered (2xx), rejects with SipRequestError for a failure. */
  invite(target: string | SipUri, offerSdp: string, options: InviteOptions = {}): Promise<SipCall> {
    this.#assertOpen();
    return placeCall(this.#context, (call) => this.#track(call), target, offerSdp, options);
  }

  register(options: RegistrationOptions): Registration {
    this.#assertOpen();
    const registration = new Registration(this.#context, options);
    this.#registrations.add(registration);
    return registration;
  }

  /** Pings `target` with OPTIONS every `intervalMs`; closed with the user agent. */
  keepAlive(target: string | SipUri, intervalMs: number): KeepAlive {
    this.#assertOpen();
    const keepAlive = new KeepAlive(this.#context, typeof target === 'string' ? parseSipUri(target) : target, intervalMs);
    this.#keepAlives.add(keepAlive);
    return keepAlive;
  }

  /** One OPTIONS request; resolves with the response (408/503 made up when there is none). */
  options(target: string | SipUri): Promise<SipResponse> {
    this.#assertOpen();
    return sendOptions(this.#context, target);
  }

  /** Hangs up calls, unregisters, stops keep-alives, closes sockets. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const keepAlive of this.#keepAlives) keepAlive.close();
    for (const incoming of this.#incoming.values()) {
      if (!incoming.answered) incoming.reject(503, 'Service Unavailable');
    }
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...[...this.#calls.values()].map((call) => call.close()), ...[...this.#registrations].map((registration) => registration.close())]),
      new Promise<void>((resolve) => {
        wait = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(wait);
    this.#layer.close();
    this.#transport.close();
    this.#logger.info('SIP user agent closed');
  }

  #track(call: SipCall): void {
    const key = call.dialog.key;
    this.#calls.set(key, call);
    call.once('ended', () => {
      // Keep answering retransmitted BYEs with 200 for a while (64·T1), then forget the dialog.
      const forget = setTimeout(() => this.#calls.delete(key), 64 * this.#context.timers.t1);
      forget.unref();
    });
  }

  #onRequest(request: SipRequest, transaction: ServerTransaction): void {
    if (this.#closed) {
      transaction.respond(responseTo(request, 503, 'Service Unavailable'));
      return;
    }
    const unreadable = checkRequest(request);
    if (unreadable) {
      this.#logger.info({ callId: request.headers.get('Call-ID'), err: unreadable }, 'bad request answered with 400');
      transaction.respond(responseTo(request, 400, `Bad Request (${unreadable})`));
      return;
    }
    const unsupported = request.headers.getAll('Require').filter((tag) => tag.toLowerCase() !== 'timer');
    if (unsupported.length > 0 && request.method !== 'CANCEL') {
      transaction.respond(responseTo(request, 420, 'Bad Extension', { headers: [['Unsupported', unsupported.join(', ')]] }));
      return;
    }
    if (request.method === 'CANCEL') {
      this.#onCancel(request, transaction);
      return;
    }
    const toTag = parseNameAddr(request.headers.get('To') ?? '', 'To').params['tag'];
    if (toTag !== undefined) {
      const call = this.#calls.get(dialogKeyOfRequest(request));
      if (call) call.receiveRequest(request, transaction);
      else transaction.respond(responseTo(request, 481));
      return;
    }
    switch (request.method) {
      case 'INVITE':
        this.#onInvite(request, transaction);
        return;
      case 'OPTIONS':
        transaction.respond(
          responseTo(request, 200, 'OK', {
            headers: [
              ['Allow', ALLOWED_METHODS],
              ['Accept', 'application/sdp, application/media_control+xml, application/dtmf-relay'],
              ['Supported', SUPPORTED_EXTENSIONS],
              ['Server', this.#context.userAgent],
            ],
          }),
        );
        return;
      default:
        if (IN_DIALOG_ONLY.has(request.method)) transaction.respond(responseTo(request, 481));
        else if (KNOWN_METHODS.has(request.method)) transaction.respond(responseTo(request, 405, undefined, { headers: [['Allow', ALLOWED_METHODS]] }));
        else transaction.respond(responseTo(request, 501, undefined, { headers: [['Allow', ALLOWED_METHODS]] }));
    }
  }

  #onInvite(request: SipRequest, transaction: ServerTransaction): void {
    const minSE = intervalTooSmall(request, this.#context.sessionTimer);
    if (minSE !== undefined) {
      transaction.respond(responseTo(request, 422, undefined, { headers: [['Min-SE', String(minSE)]] }));
      return;
    }
    const handler = this.#inviteHandler;
    if (!handler) {
      this.#logger.warn({ callId: request.headers.get('Call-ID') }, 'INVITE refused with 480: no onInvite handler is set');
      transaction.respond(responseTo(request, 480));
      return;
    }
    const incoming = new IncomingCall(request, transaction, this.#context, (call) => this.#track(call));
    this.#incoming.set(transaction, incoming);
    const timeout = setTimeout(() => {
      if (incoming.answered) return;
      this.#logger.warn({ callId: incoming.callId }, `INVITE not answered within ${this.#answerTimeoutMs} ms: refused with 480`);
      incoming.reject(480);
    }, this.#answerTimeoutMs);
    transaction.once('terminated', () => {
      clearTimeout(timeout);
      this.#incoming.delete(transaction);
    });
    Promise.resolve()
      .then(() => handler(incoming))
      .catch((error: unknown) => {
        this.#logger.error({ err: error, callId: incoming.callId }, 'onInvite handler failed; the call is refused with 500');
        if (!incoming.answered) incoming.reject(500, 'Server Internal Error');
      });
  }

  #onCancel(cancel: SipRequest, transaction: ServerTransaction): void {
    const invite = this.#layer.inviteTransactionFor(cancel);
    if (!invite) {
      transaction.respond(responseTo(cancel, 481));
      return;
    }
    transaction.respond(responseTo(cancel, 200));
    this.#incoming.get(invite)?.cancel();
  }

  #onAck(ack: SipRequest): void {
    try {
      this.#calls.get(dialogKeyOfRequest(ack))?.receiveAck(ack);
    } catch (error) {
      this.#logger.debug({ err: error }, 'unreadable ACK dropped');
    }
  }

  #onStrayResponse(response: SipResponse, source: SipEndpoint): void {
    this.#logger.debug({ status: response.status, callId: response.headers.get('Call-ID'), source }, 'response matching no transaction dropped');
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('the SIP user agent is closed');
  }
}

/** What we cannot process in a request that parsed (a From we cannot read…); undefined when fine. */
function checkRequest(request: SipRequest): string | undefined {
  try {
    parseNameAddr(request.headers.get('From') ?? '', 'From');
    parseNameAddr(request.headers.get('To') ?? '', 'To');
    const cseq = parseCSeq(request.headers.get('CSeq') ?? '');
    if (cseq.method !== request.method) return `CSeq method ${cseq.method} is not ${request.method}`;
    if (request.method === 'INVITE' && request.headers.get('Contact') === undefined) return 'INVITE without Contact';
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.slice(0, 100).replace(/[^\x20-\x7e]/g, '?') : 'unreadable';
  }
}

function sendAndWait(
  layer: TransactionLayer,
  request: SipRequest,
  destination: SipEndpoint,
  onResponse?: (response: SipResponse, transaction: ClientTransaction) => void,
): Promise<SipResponse> {
  return new Promise((resolve) => {
    const transaction = layer.sendRequest(request, destination);
    let settled = false;
    transaction.on('response', (response) => {
      onResponse?.(response, transaction);
      if (response.status >= 200 && !settled) {
        settled = true;
        resolve(response);
      }
    });
    transaction.on('timeout', () => resolve(localResponse(request, 408, 'Request Timeout')));
    transaction.on('transportError', (error) => resolve(localResponse(request, 503, `Transport Error (${error.message})`)));
  });
}

