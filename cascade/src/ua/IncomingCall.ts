// An INVITE that opens a call, before we answer: provisional responses, accept (which sets up the
// dialog and its SipCall) or reject; CANCEL aborts its signal and we answer 487.
import { randomBytes } from 'node:crypto';
import { parseNameAddr, type NameAddr } from '../sip/headers.js';
import { responseTo, type SipRequest, type SipResponse } from '../sip/message.js';
import { Dialog } from '../dialog/Dialog.js';
import type { ServerTransaction } from '../transaction/ServerTransaction.js';
import { InvalidStateError } from './errors.js';
import { SipCall } from './SipCall.js';
import { answerSessionInterval } from './sessionTimer.js';
import { ALLOWED_METHODS, SUPPORTED_EXTENSIONS, type UaContext } from './UaContext.js';

export interface AcceptOptions {
  /** Our wish when the caller asked for no session timer (seconds); we then refresh. */
  sessionExpires?: number;
  headers?: [string, string][];
}

export class IncomingCall {
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  /** The caller's SDP offer; undefined for a late-offer INVITE (accept then carries our offer). */
  readonly offer: string | undefined;
  readonly #abort = new AbortController();
  readonly #localTag = randomBytes(6).toString('hex');
  #answered = false;

  constructor(
    readonly request: SipRequest,
    private readonly transaction: ServerTransaction,
    private readonly context: UaContext,
    private readonly register: (call: SipCall) => void,
  ) {
    this.from = parseNameAddr(request.headers.get('From') ?? '', 'From');
    this.to = parseNameAddr(request.headers.get('To') ?? '', 'To');
    this.callId = request.headers.get('Call-ID') ?? '';
    this.offer = request.body.length > 0 ? request.body.toString('utf8') : undefined;
  }

  /** Aborted when the caller CANCELs (we have answered 487) or the user agent closes. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get answered(): boolean {
    return this.#answered;
  }

  ringing(): void {
    this.#provisional(180);
  }

  /** 183 Session Progress with early media SDP. */
  progress(sdp: string): void {
    this.#provisional(183, [['Content-Type', 'application/sdp']], Buffer.from(sdp));
  }

  /** 200 OK with our answer (or our offer, for a late-offer INVITE); the call is up once it is ACKed. */
  accept(sdp: string, options: AcceptOptions = {}): SipCall {
    this.#settle('accept');
    const protocol = this.transaction.source.protocol;
    const contact = this.context.contact(protocol);
    const session = answerSessionInterval(this.request, this.context.sessionTimer, options.sessionExpires);
    const dialog = Dialog.asUas(this.request, this.#localTag, contact, protocol);
    const call = new SipCall(this.context, dialog, {
      direction: 'incoming',
      localSdp: sdp,
      remoteSdp: this.offer,
      interval: session.interval,
      peerAllow: this.request.headers.getAll('Allow'),
    });
    this.register(call);
    const headers: [string, string][] = [
      ...this.request.headers.getAll('Record-Route').map((route): [string, string] => ['Record-Route', route]),
      ['Contact', contact],
      ['Allow', ALLOWED_METHODS],
      ['Supported', SUPPORTED_EXTENSIONS],
      ['Server', this.context.userAgent],
      ...session.headers,
      ...(options.headers ?? []),
      ['Content-Type', 'application/sdp'],
    ];
    const response = responseTo(this.request, 200, 'OK', { toTag: this.#localTag, headers, body: Buffer.from(sdp) });
    call.sendReliable2xx(this.transaction, response, this.offer === undefined);
    return call;
  }

  /** A final failure: 486 busy, 488 no common codec (add a Warning), 603 decline… */
  reject(status: number, reason?: string, headers: [string, string][] = []): void {
    if (status < 300 || status > 699) throw new RangeError(`reject takes a 3xx–6xx status, not ${status}`);
    this.#settle('reject');
    this.transaction.respond(this.#response(status, headers, undefined, reason));
  }

  /** The caller's CANCEL: 487 to the INVITE (the UA already answered the CANCEL with 200). */
  cancel(): void {
    if (this.#answered) return;
    this.#answered = true;
    this.transaction.respond(this.#response(487));
    this.#abort.abort(new Error('the caller cancelled the call'));
  }

  #provisional(status: number, headers: [string, string][] = [], body?: Buffer): void {
    if (this.#answered) throw new InvalidStateError(`cannot send ${status}: the INVITE was already answered`);
    this.transaction.respond(this.#response(status, [['Contact', this.context.contact(this.transaction.source.protocol)], ...headers], body));
  }

  #response(status: number, headers: [string, string][] = [], body?: Buffer, reason?: string): SipResponse {
    return responseTo(this.request, status, reason, { toTag: this.#localTag, headers: [['Server', this.context.userAgent], ...headers], body });
  }

  #settle(action: string): void {
    if (this.#answered) {
      const why = this.signal.aborted ? 'the caller cancelled it' : 'it was already answered';
      throw new InvalidStateError(`cannot ${action} the INVITE: ${why}`);
    }
    this.#answered = true;
  }
}
