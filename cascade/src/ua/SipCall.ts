// One call: a dialog with an INVITE session (RFC 3261 §12–§15), its re-INVITEs and UPDATEs
// (RFC 3311), INFO (RFC 6086) for key frames and DTMF, and RFC 4028 session timers.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Dialog } from '../dialog/Dialog.js';
import { formatSessionExpires, parseContentType, parseCSeq } from '../sip/headers.js';
import { responseTo, type SipRequest, type SipResponse } from '../sip/message.js';
import type { ServerTransaction } from '../transaction/ServerTransaction.js';
import { Retransmitter, transactionTimeout } from '../transaction/SipTimers.js';
import { InvalidStateError, SipRequestError } from './errors.js';
import { DTMF_RELAY_TYPE, dtmfRelayBody, isPictureFastUpdate, MEDIA_CONTROL_TYPE, parseDtmfInfo, PICTURE_FAST_UPDATE_XML } from './info.js';
import {
  answerSessionInterval,
  expiryDelayMs,
  grantedSessionInterval,
  intervalTooSmall,
  refreshDelayMs,
  type SessionInterval,
} from './sessionTimer.js';
import { ALLOWED_METHODS, SUPPORTED_EXTENSIONS, type UaContext } from './UaContext.js';

export type CallEndReason =
  /** The peer sent BYE. */
  | 'remote-bye'
  /** hangup() */
  | 'local-hangup'
  /** The peer did not refresh the session in time (RFC 4028); we sent BYE. */
  | 'session-expired'
  /** The ACK of our 2xx never came; we sent BYE. */
  | 'ack-timeout'
  /** An in-dialog request timed out or could not be sent. */
  | 'transport-error'
  /** The peer answered an in-dialog request with 481: it has no such call any more. */
  | 'dialog-gone'
  /** The user agent closed. */
  | 'ua-closed';

/** An offer inside the call (re-INVITE or UPDATE with SDP): answer it with accept or reject. */
export interface IncomingOffer {
  method: 'INVITE' | 'UPDATE';
  /** The remote SDP; undefined for a re-INVITE without one (we offer in the 200, the answer comes in the ACK). */
  offer: string | undefined;
  request: SipRequest;
  accept(sdp: string): void;
  reject(status: number, reason?: string, headers?: [string, string][]): void;
}

export interface SipCallEvents {
  reinvite: [offer: IncomingOffer];
  /** The SDP answer in an ACK, after we offered in a 200 (late offer). */
  answer: [sdp: string];
  info: [info: { contentType: string; body: Buffer; request: SipRequest }];
  /** RFC 5168 picture_fast_update from the peer. */
  keyframeRequest: [];
  dtmf: [digit: string, durationMs: number | undefined];
  /** The session timer was (re)started: by a refresh either way, or the initial negotiation. */
  sessionRefreshed: [interval: SessionInterval];
  ended: [reason: CallEndReason];
}

export interface SipCallInit {
  direction: 'incoming' | 'outgoing';
  localSdp: string;
  remoteSdp: string | undefined;
  interval: SessionInterval | undefined;
  /** The peer's Allow header values (to choose UPDATE or re-INVITE for refreshes). */
  peerAllow: string[];
}

const DEFAULT_DTMF_DURATION_MS = 160;

export class SipCall extends EventEmitter<SipCallEvents> {
  readonly direction: 'incoming' | 'outgoing';
  /** Our SDP of the last completed exchange. */
  localSdp: string;
  remoteSdp: string | undefined;
  readonly #context: UaContext;
  readonly #logger: Logger;
  #peerAllow: string[];
  #interval?: SessionInterval;
  #sessionTimer?: NodeJS.Timeout;
  #pending2xx?: { seq: number; retransmitter?: Retransmitter; timeout: NodeJS.Timeout; offeredInResponse: boolean };
  #outgoingOffer = false;
  #incomingOffer?: ServerTransaction;
  #endReason?: CallEndReason;
  #hangup?: Promise<void>;

  constructor(
    context: UaContext,
    readonly dialog: Dialog,
    init: SipCallInit,
  ) {
    super();
    this.#context = context;
    this.#logger = context.logger.child({ callId: dialog.callId });
    this.direction = init.direction;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.#peerAllow = init.peerAllow;
    this.#setInterval(init.interval);
  }

  get callId(): string {
    return this.dialog.callId;
  }

  get ended(): boolean {
    return this.#endReason !== undefined;
  }

  get endReason(): CallEndReason | undefined {
    return this.#endReason;
  }

  get sessionInterval(): SessionInterval | undefined {
    return this.#interval;
  }

  /** Sends a new offer (hold, resume, codec change); resolves with the peer's answer SDP. */
  async reinvite(offerSdp: string): Promise<string> {
    this.#assertActive('re-INVITE');
    if (this.#outgoingOffer || this.#incomingOffer) throw new InvalidStateError('an offer/answer exchange is in progress; retry after it completes (RFC 3261 §14.1)');
    this.#outgoingOffer = true;
    try {
      const response = await this.#sendInvite(offerSdp);
      this.localSdp = offerSdp;
      this.remoteSdp = response.body.toString('utf8');
      return this.remoteSdp;
    } finally {
      this.#outgoingOffer = false;
    }
  }

  /** A SIP INFO; rejects with SipRequestError on a failure response. */
  async sendInfo(contentType: string, body: string | Buffer): Promise<SipResponse> {
    this.#assertActive('INFO');
    const response = await this.#request('INFO', { headers: [['Content-Type', contentType]], body: Buffer.from(body) });
    if (response.status >= 300) throw new SipRequestError('INFO', response.status, response.reason, response);
    return response;
  }

  /** Asks the peer for a key frame (RFC 5168 INFO picture_fast_update). */
  async requestKeyFrame(): Promise<void> {
    await this.sendInfo(MEDIA_CONTROL_TYPE, PICTURE_FAST_UPDATE_XML);
  }

  /** Sends DTMF as SIP INFO application/dtmf-relay, one INFO per digit, each after the last was answered. */
  async sendDtmf(digits: string, { durationMs = DEFAULT_DTMF_DURATION_MS }: { durationMs?: number } = {}): Promise<void> {
    const invalid = [...digits].find((digit) => parseDtmfInfo('application/dtmf', digit) === undefined);
    if (invalid !== undefined) throw new RangeError(`"${invalid}" is not a DTMF key: use 0-9, *, #, A-D`);
    for (const digit of digits) await this.sendInfo(DTMF_RELAY_TYPE, dtmfRelayBody(digit.toUpperCase(), durationMs));
  }

  /** Sends BYE and ends the call at once; resolves when the BYE is answered (or timed out). */
  hangup(): Promise<void> {
    this.#hangup ??= this.#bye('local-hangup');
    return this.#hangup;
  }

  /** An in-dialog request for this call (the UA matched its tags). */
  receiveRequest(request: SipRequest, transaction: ServerTransaction): void {
    if (!this.dialog.acceptsRemoteSeq(request)) {
      transaction.respond(responseTo(request, 500, 'Server Internal Error', { headers: [['Reason', 'SIP;text="CSeq out of order"']] }));
      return;
    }
    if (this.ended && request.method !== 'BYE') {
      transaction.respond(responseTo(request, 481));
      return;
    }
    switch (request.method) {
      case 'BYE':
        transaction.respond(this.#response(request, 200));
        this.#incomingOffer?.respond(responseTo(this.#incomingOffer.request, 487));
        this.#end('remote-bye');
        return;
      case 'INVITE':
      case 'UPDATE':
        this.#receiveOffer(request, transaction);
        return;
      case 'INFO':
        transaction.respond(this.#response(request, 200));
        this.#receiveInfo(request);
        return;
      case 'OPTIONS':
        transaction.respond(this.#response(request, 200, [['Accept', 'application/sdp']]));
        return;
      default:
        transaction.respond(this.#response(request, 405, [['Allow', ALLOWED_METHODS]]));
    }
  }

  /** The ACK of a 2xx we sent (RFC 3261 §13.3.1.4 stops retransmitting it). */
  receiveAck(ack: SipRequest): void {
    const pending = this.#pending2xx;
    if (!pending || parseCSeq(ack.headers.get('CSeq') ?? '').seq !== pending.seq) return;
    this.#stop2xx();
    if (pending.offeredInResponse && ack.body.length > 0) {
      this.remoteSdp = ack.body.toString('utf8');
      this.emit('answer', this.remoteSdp);
    }
  }

  /** Sends a 2xx and retransmits it until the ACK (T1 doubling to T2); no ACK within 64·T1 ends the call. */
  sendReliable2xx(transaction: ServerTransaction, response: SipResponse, offeredInResponse: boolean): void {
    transaction.respond(response);
    const { t1, t2 } = this.#context.timers;
    const source = transaction.source;
    const retransmitter = source.protocol === 'udp'
      ? new Retransmitter(t1, t2, () => {
          this.#context.transport.sendResponse(response, source).catch(() => {});
        })
      : undefined;
    retransmitter?.start();
    const timeout = setTimeout(() => {
      this.#stop2xx();
      this.#logger.warn('no ACK for our 2xx within 64*T1: hanging up (check that the peer can reach our Contact)');
      void this.#bye('ack-timeout');
    }, transactionTimeout(this.#context.timers));
    this.#stop2xx();
    this.#pending2xx = { seq: parseCSeq(response.headers.get('CSeq') ?? '').seq, retransmitter, timeout, offeredInResponse };
  }

  /** Ends the call for the user agent's close: BYE if still up. */
  close(): Promise<void> {
    if (this.ended) return this.#hangup ?? Promise.resolve();
    this.#hangup = this.#bye('ua-closed');
    return this.#hangup;
  }

  #receiveOffer(request: SipRequest, transaction: ServerTransaction): void {
    const method = request.method as 'INVITE' | 'UPDATE';
    const hasSdp = request.body.length > 0;
    if (method === 'INVITE' && this.#incomingOffer) {
      transaction.respond(this.#response(request, 500, [['Retry-After', String(1 + Math.floor(Math.random() * 10))]]));
      return;
    }
    if ((method === 'INVITE' || hasSdp) && this.#outgoingOffer) {
      transaction.respond(this.#response(request, 491));
      return;
    }
    const minSE = intervalTooSmall(request, this.#context.sessionTimer);
    if (minSE !== undefined) {
      transaction.respond(this.#response(request, 422, [['Min-SE', String(minSE)]]));
      return;
    }
    this.dialog.refreshTarget(request);
    const allow = request.headers.getAll('Allow');
    if (allow.length > 0) this.#peerAllow = allow;
    const session = answerSessionInterval(request, this.#context.sessionTimer, this.#interval?.seconds);
    const respondOk = (sdp: string | undefined, offeredInResponse: boolean) => {
      const headers: [string, string][] = [...session.headers];
      if (sdp !== undefined) headers.push(['Content-Type', 'application/sdp']);
      const response = this.#response(request, 200, headers, sdp === undefined ? undefined : Buffer.from(sdp));
      if (method === 'INVITE') this.sendReliable2xx(transaction, response, offeredInResponse);
      else transaction.respond(response);
      this.#setInterval(session.interval);
    };
    if (!hasSdp && method === 'UPDATE') {
      respondOk(undefined, false);
      return;
    }
    if (this.listenerCount('reinvite') === 0) {
      if (!hasSdp) respondOk(this.localSdp, true);
      else transaction.respond(this.#response(request, 488, [['Warning', `399 cityconf "re-INVITE not handled"`]]));
      return;
    }
    if (method === 'INVITE') this.#incomingOffer = transaction;
    let answered = false;
    const settle = () => {
      if (answered) throw new InvalidStateError('this offer was already answered');
      answered = true;
      if (this.#incomingOffer === transaction) this.#incomingOffer = undefined;
    };
    const offer = hasSdp ? request.body.toString('utf8') : undefined;
    this.emit('reinvite', {
      method,
      offer,
      request,
      accept: (sdp) => {
        settle();
        if (transaction.state === 'terminated' || transaction.finalResponseSent) return;
        this.localSdp = sdp;
        if (offer !== undefined) this.remoteSdp = offer;
        respondOk(sdp, offer === undefined);
      },
      reject: (status, reason, headers = []) => {
        settle();
        transaction.respond(this.#response(request, status, headers, undefined, reason));
      },
    });
  }

  #receiveInfo(request: SipRequest): void {
    const contentTypeHeader = request.headers.get('Content-Type');
    let contentType = '';
    try {
      contentType = contentTypeHeader === undefined ? '' : parseContentType(contentTypeHeader).mediaType;
    } catch {
      this.#logger.debug({ contentType: contentTypeHeader }, 'INFO with an unreadable Content-Type');
    }
    const body = request.body.toString('utf8');
    this.emit('info', { contentType, body: request.body, request });
    if (isPictureFastUpdate(contentType, body)) this.emit('keyframeRequest');
    const dtmf = parseDtmfInfo(contentType, body);
    if (dtmf) this.emit('dtmf', dtmf.digit, dtmf.durationMs);
  }

  async #sendInvite(offerSdp: string): Promise<SipResponse> {
    const headers: [string, string][] = [['Content-Type', 'application/sdp'], ...this.#timerHeaders()];
    const request = this.#create('INVITE', headers, Buffer.from(offerSdp));
    const seq = this.dialog.localSeq;
    const ack = () => this.#create('ACK', [], undefined, seq);
    const response = await this.#context.send(request, this.dialog.destination(), (each) => {
      if (each.status >= 200 && each.status < 300) this.#sendAck(ack());
    });
    this.#checkDialogFailure(response);
    if (response.status >= 300) throw new SipRequestError('INVITE', response.status, response.reason, response);
    this.dialog.refreshTarget(response);
    this.#setInterval(grantedSessionInterval(response) ?? this.#interval);
    return response;
  }

  #timerHeaders(): [string, string][] {
    const headers: [string, string][] = [['Supported', SUPPORTED_EXTENSIONS]];
    if (this.#interval) {
      const refresher = this.#interval.refresher === 'local' ? 'uac' : 'uas';
      headers.push(['Session-Expires', formatSessionExpires({ seconds: this.#interval.seconds, refresher, params: {} })]);
      headers.push(['Min-SE', String(this.#context.sessionTimer.minSE)]);
    }
    return headers;
  }

  async #refresh(): Promise<void> {
    if (this.ended || !this.#interval) return;
    const viaUpdate = this.#peerAllow.some((method) => method.toUpperCase() === 'UPDATE');
    this.#logger.debug({ method: viaUpdate ? 'UPDATE' : 'INVITE', interval: this.#interval.seconds }, 'refreshing the session');
    try {
      if (!viaUpdate) {
        if (this.#outgoingOffer || this.#incomingOffer) {
          this.#setInterval(this.#interval);
          return;
        }
        await this.reinvite(this.localSdp);
        return;
      }
      const response = await this.#request('UPDATE', { headers: this.#timerHeaders() });
      if (response.status === 422) {
        const minSE = Number(response.headers.get('Min-SE'));
        if (Number.isInteger(minSE) && minSE > this.#interval.seconds) {
          this.#interval = { ...this.#interval, seconds: minSE };
          await this.#refresh();
        }
        return;
      }
      if (response.status >= 300) throw new SipRequestError('UPDATE', response.status, response.reason, response);
      this.#setInterval(grantedSessionInterval(response) ?? this.#interval);
    } catch (error) {
      if (this.ended) return;
      this.#logger.warn({ err: error }, 'session refresh failed; the call ends when the session expires');
    }
  }

  #setInterval(interval: SessionInterval | undefined): void {
    clearTimeout(this.#sessionTimer);
    this.#interval = interval;
    if (!interval || this.ended) return;
    const config = this.#context.sessionTimer;
    this.#sessionTimer =
      interval.refresher === 'local'
        ? setTimeout(() => void this.#refresh(), refreshDelayMs(interval, config))
        : setTimeout(() => {
            this.#logger.warn({ interval: interval.seconds }, 'the peer did not refresh the session (RFC 4028): hanging up');
            void this.#bye('session-expired');
          }, expiryDelayMs(interval, config));
    this.emit('sessionRefreshed', interval);
  }

  async #bye(reason: CallEndReason): Promise<void> {
    if (this.ended) return;
    this.#end(reason);
    const response = await this.#request('BYE', {});
    if (response.status >= 300) this.#logger.info({ status: response.status }, 'BYE was not accepted; the call is over on our side');
  }

  async #request(method: string, { headers = [], body }: { headers?: [string, string][]; body?: Buffer }): Promise<SipResponse> {
    const request = this.#create(method, headers, body);
    const response = await this.#context.send(request, this.dialog.destination());
    if (method !== 'BYE') this.#checkDialogFailure(response);
    return response;
  }

  /** RFC 3261 §12.2.1.2: 481 and 408 to an in-dialog request end the dialog. */
  #checkDialogFailure(response: SipResponse): void {
    if (response.status === 481) this.#end('dialog-gone');
    else if (response.status === 408 || (response.status === 503 && response.reason.startsWith('Transport'))) {
      this.#end('transport-error');
      if (!this.#hangup) this.#hangup = this.#request('BYE', {}).then(() => {});
    }
  }

  #create(method: string, headers: [string, string][], body?: Buffer, cseq?: number): SipRequest {
    const all: [string, string][] = method === 'ACK' ? [] : [['User-Agent', this.#context.userAgent], ['Allow', ALLOWED_METHODS]];
    return this.dialog.createRequest(method, { headers: [...all, ...headers], body, cseq });
  }

  #sendAck(ack: SipRequest): void {
    this.#context.layer.sendWithoutTransaction(ack, this.dialog.destination()).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'could not send ACK');
    });
  }

  #response(request: SipRequest, status: number, headers: [string, string][] = [], body?: Buffer, reason?: string): SipResponse {
    const common: [string, string][] =
      status >= 200 && status < 300 && (request.method === 'INVITE' || request.method === 'UPDATE')
        ? [['Contact', this.dialog.localContact], ['Allow', ALLOWED_METHODS], ['Supported', SUPPORTED_EXTENSIONS]]
        : [];
    return responseTo(request, status, reason, { headers: [...common, ['Server', this.#context.userAgent], ...headers], body });
  }

  #stop2xx(): void {
    if (!this.#pending2xx) return;
    this.#pending2xx.retransmitter?.stop();
    clearTimeout(this.#pending2xx.timeout);
    this.#pending2xx = undefined;
  }

  #assertActive(what: string): void {
    if (this.ended) throw new InvalidStateError(`cannot send ${what}: the call has ended (${this.#endReason})`);
  }

  #end(reason: CallEndReason): void {
    if (this.ended) return;
    this.#endReason = reason;
    clearTimeout(this.#sessionTimer);
    this.#stop2xx();
    this.#logger.info({ reason }, 'call ended');
    this.emit('ended', reason);
  }
}
