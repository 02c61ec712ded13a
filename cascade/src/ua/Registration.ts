// REGISTER with a registrar (RFC 3261 §10): digest on 401/407, refresh before the binding expires
// (granted expiry minus a margin; half of it for short ones), retry after failures, and
// unregister (expires=0) on close.
import { EventEmitter } from 'node:events';
import { chooseDigestChallenge, DigestClient, type DigestChallenge } from '../sip/digest.js';
import { parseContact, parseNumberHeader, type NameAddr } from '../sip/headers.js';
import type { SipResponse } from '../sip/message.js';
import { formatSipUri, parseSipUri, type SipUri } from '../sip/uri.js';
import { endpointForUri, type SipEndpoint } from '../transport/SipTransport.js';
import { SipRequestError } from './errors.js';
import { buildRequest, newCallId, newTag } from './requests.js';
import type { UaContext } from './UaContext.js';

export interface RegistrationOptions {
  /** The registrar, e.g. `sip:registrar.gov.example` or `sip:10.0.0.5:5060;transport=tcp`. */
  registrar: string;
  /** Our address-of-record (default `sip:<username>@<registrar host>`). */
  aor?: string;
  username: string;
  password: string;
  /** Requested expiry, seconds (default 3600). */
  expires?: number;
  /** After a failure, the next attempt (default 30 s). */
  retryAfterMs?: number;
}

export interface RegistrationEvents {
  /** The binding is in place for `expires` seconds. */
  registered: [expires: number];
  failed: [error: Error];
  unregistered: [];
}

/** Refresh this many seconds before expiry (or at half of a shorter expiry). */
const REFRESH_MARGIN_SECONDS = 30;
/** close() waits at most this long for the unregister to be answered. */
const UNREGISTER_WAIT_MS = 2000;

export class Registration extends EventEmitter<RegistrationEvents> {
  readonly #context: UaContext;
  readonly #registrar: SipUri;
  readonly #destination: SipEndpoint;
  readonly #aor: NameAddr;
  readonly #fromTag = newTag();
  readonly #callId: string;
  readonly #digest: DigestClient;
  readonly #expires: number;
  readonly #retryAfterMs: number;
  #cseq = 0;
  #challenge?: { challenge: DigestChallenge; proxy: boolean };
  #timer?: NodeJS.Timeout;
  #registered = false;
  #closed = false;

  constructor(context: UaContext, options: RegistrationOptions) {
    super();
    this.#context = context;
    this.#registrar = parseSipUri(options.registrar);
    this.#destination = endpointForUri(this.#registrar, context.transport.defaultProtocol);
    const aor = options.aor === undefined ? { scheme: 'sip' as const, user: options.username, host: this.#registrar.host, params: {}, headers: {} } : parseSipUri(options.aor);
    this.#aor = { uri: aor, params: {} };
    this.#callId = newCallId(context.transport.local(this.#destination.protocol).host);
    this.#digest = new DigestClient(options.username, options.password);
    this.#expires = options.expires ?? 3600;
    this.#retryAfterMs = options.retryAfterMs ?? 30_000;
    queueMicrotask(() => void this.#run());
  }

  get registered(): boolean {
    return this.#registered;
  }

  /** Stops refreshing and removes the binding (REGISTER expires=0, answered or not within 2 s). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    if (!this.#registered) return;
    this.#registered = false;
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#register(0).catch(() => {}),
      new Promise<void>((resolve) => {
        wait = setTimeout(resolve, UNREGISTER_WAIT_MS);
      }),
    ]);
    clearTimeout(wait);
    this.emit('unregistered');
  }

  async #run(): Promise<void> {
    if (this.#closed) return;
    try {
      const expires = await this.#register(this.#expires);
      if (this.#closed) return;
      this.#registered = true;
      this.emit('registered', expires);
      const refreshSeconds = expires > 2 * REFRESH_MARGIN_SECONDS ? expires - REFRESH_MARGIN_SECONDS : expires / 2;
      this.#schedule(refreshSeconds * 1000);
    } catch (error) {
      if (this.#closed) return;
      this.#registered = false;
      this.#context.logger.warn({ err: error, registrar: formatSipUri(this.#registrar) }, `registration failed; retrying in ${this.#retryAfterMs} ms (check the username, password and registrar address)`);
      this.emit('failed', error instanceof Error ? error : new Error(String(error)));
      this.#schedule(this.#retryAfterMs);
    }
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), ms);
  }

  /** One REGISTER (with a digest retry when challenged); resolves with the granted expiry. */
  async #register(expires: number): Promise<number> {
    let challengedNow = false;
    let requestedExpires = expires;
    for (;;) {
      const response = await this.#send(requestedExpires);
      const { status } = response;
      if (status >= 200 && status < 300) return expires === 0 ? 0 : this.#grantedExpires(response, requestedExpires);
      if ((status === 401 || status === 407) && !challengedNow) {
        const challenge = chooseDigestChallenge(response.headers.getAll(status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'));
        if (challenge) {
          this.#challenge = { challenge, proxy: status === 407 };
          challengedNow = true;
          continue;
        }
      }
      if (status === 423 && response.headers.get('Min-Expires') !== undefined) {
        const minimum = parseNumberHeader(response.headers.get('Min-Expires') ?? '', 'Min-Expires');
        if (minimum > requestedExpires) {
          requestedExpires = minimum;
          continue;
        }
      }
      throw new SipRequestError('REGISTER', status, response.reason, response);
    }
  }

  #send(expires: number): Promise<SipResponse> {
    const contact = this.#context.contact(this.#destination.protocol, this.#aor.uri.user);
    const headers: [string, string][] = [
      ['Contact', contact],
      ['Expires', String(expires)],
      ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE'],
      ['User-Agent', this.#context.userAgent],
    ];
    const { user: _user, password: _password, ...uri } = this.#registrar;
    if (this.#challenge) {
      const value = this.#digest.authorize(this.#challenge.challenge, { method: 'REGISTER', uri: formatSipUri(uri) });
      headers.push([this.#challenge.proxy ? 'Proxy-Authorization' : 'Authorization', value]);
    }
    const request = buildRequest({ method: 'REGISTER', uri, from: { ...this.#aor, params: { tag: this.#fromTag } }, to: this.#aor, callId: this.#callId, cseq: ++this.#cseq, headers });
    return this.#context.send(request, this.#destination);
  }

  /** The expires of our binding in the 200 (Contact param, else Expires header, else what we asked). */
  #grantedExpires(response: SipResponse, requested: number): number {
    const ours = parseSipUri(this.#context.contact(this.#destination.protocol, this.#aor.uri.user).replace(/^<|>$/g, ''));
    for (const value of response.headers.getAll('Contact')) {
      try {
        const contact = parseContact(value);
        if (contact === '*' || contact.uri.host !== ours.host || (contact.uri.port ?? 5060) !== (ours.port ?? 5060)) continue;
        const expires = contact.params['expires'];
        if (expires) return parseNumberHeader(expires, 'Contact expires');
      } catch {
        continue;
      }
    }
    const header = response.headers.get('Expires');
    return header === undefined ? requested : parseNumberHeader(header, 'Expires');
  }
}
