// HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616): the client that
// answers a 401/407 challenge, and the server that issues challenges and checks credentials with
// stateless nonces (an HMAC-signed timestamp, so an old nonce is recognised as stale).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SipParseError } from './errors.js';
import { checkParamValue, definePlain, isToken, quote, splitTopLevel, unquote } from './lexer.js';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
export type DigestQop = 'auth' | 'auth-int';

const ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** A WWW-Authenticate / Proxy-Authenticate value. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** What the server offers; empty when it sent no qop (RFC 2069 style). */
  qop: DigestQop[];
  stale: boolean;
}

/** An Authorization / Proxy-Authorization value. */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  /** Hex digest. */
  response: string;
  algorithm: DigestAlgorithm;
  opaque?: string;
  qop?: DigestQop;
  /** 8 hex digits, with qop. */
  nc?: string;
  cnonce?: string;
}

export function parseDigestChallenge(text: string): DigestChallenge {
  const params = parseDigestParams(text, 'challenge');
  const challenge: DigestChallenge = {
    realm: required(params, 'realm', 'challenge'),
    nonce: required(params, 'nonce', 'challenge'),
    algorithm: parseAlgorithm(params['algorithm']),
    qop: (params['qop'] ?? '')
      .split(',')
      .map((qop) => qop.trim().toLowerCase())
      .filter((qop): qop is DigestQop => qop === 'auth' || qop === 'auth-int'),
    stale: params['stale']?.toLowerCase() === 'true',
  };
  if (params['opaque'] !== undefined) challenge.opaque = params['opaque'];
  return challenge;
}

export function formatDigestChallenge(challenge: DigestChallenge): string {
  const params = [`realm=${quote(challenge.realm)}`, `nonce=${quote(challenge.nonce)}`];
  if (challenge.opaque !== undefined) params.push(`opaque=${quote(challenge.opaque)}`);
  params.push(`algorithm=${challenge.algorithm}`);
  if (challenge.qop.length > 0) params.push(`qop=${quote(challenge.qop.join(','))}`);
  if (challenge.stale) params.push('stale=true');
  return `Digest ${params.join(', ')}`;
}

/**
 * The challenge a client should answer among several (RFC 8760: servers may offer SHA-256 and
 * MD5 in separate headers): the strongest algorithm we support. Undefined when none is usable.
 */
export function chooseDigestChallenge(values: readonly string[]): DigestChallenge | undefined {
  const usable = values.flatMap((value) => {
    try {
      return [parseDigestChallenge(value)];
    } catch (error) {
      if (error instanceof SipParseError) return [];
      throw error;
    }
  });
  return usable.sort((a, b) => ALGORITHMS.indexOf(a.algorithm) - ALGORITHMS.indexOf(b.algorithm))[0];
}

export function parseDigestCredentials(text: string): DigestCredentials {
  const params = parseDigestParams(text, 'credentials');
  const credentials: DigestCredentials = {
    username: required(params, 'username', 'credentials'),
    realm: required(params, 'realm', 'credentials'),
    nonce: required(params, 'nonce', 'credentials'),
    uri: required(params, 'uri', 'credentials'),
    response: required(params, 'response', 'credentials'),
    algorithm: parseAlgorithm(params['algorithm']),
  };
  const qop = params['qop']?.toLowerCase();
  if (qop !== undefined) {
    if (qop !== 'auth' && qop !== 'auth-int') throw new SipParseError(`digest credentials: unsupported qop ${JSON.stringify(qop)}`);
    const nc = required(params, 'nc', 'credentials');
    if (!/^[0-9a-fA-F]{8}$/.test(nc)) throw new SipParseError(`digest credentials: nc must be 8 hex digits, got ${JSON.stringify(nc)}`);
    Object.assign(credentials, { qop, nc, cnonce: required(params, 'cnonce', 'credentials') });
  }
  if (params['opaque'] !== undefined) credentials.opaque = params['opaque'];
  return credentials;
}

export function formatDigestCredentials(credentials: DigestCredentials): string {
  const { username, realm, nonce, uri, response, algorithm, opaque, qop, nc, cnonce } = credentials;
  const params = [
    `username=${quote(username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(uri)}`,
    `response=${quote(response)}`,
    `algorithm=${algorithm}`,
  ];
  if (cnonce !== undefined) params.push(`cnonce=${quote(cnonce)}`);
  if (opaque !== undefined) params.push(`opaque=${quote(opaque)}`);
  if (qop !== undefined) params.push(`qop=${qop}`, `nc=${nc ?? '00000001'}`);
  return `Digest ${params.join(', ')}`;
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  nonce: string;
  method: string;
  /** The digest-uri (normally the Request-URI as sent). */
  uri: string;
  qop?: DigestQop;
  nc?: string;
  cnonce?: string;
  /** For qop=auth-int. */
  body?: Buffer;
}

/** The request-digest (RFC 7616 §3.4.1; RFC 2617 §3.2.2.1 without qop). */
export function digestResponse(input: DigestInput): string {
  const hash = (text: string | Buffer) =>
    createHash(input.algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(text).digest('hex');
  let ha1 = hash(`${input.username}:${input.realm}:${input.password}`);
  if (input.algorithm.endsWith('-sess')) ha1 = hash(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  let a2 = `${input.method}:${input.uri}`;
  if (input.qop === 'auth-int') a2 += `:${hash(input.body ?? Buffer.alloc(0))}`;
  const tail = input.qop === undefined ? `${input.nonce}` : `${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}`;
  return hash(`${ha1}:${tail}:${hash(a2)}`);
}

export interface DigestRequest {
  method: string;
  /** The Request-URI as it will be sent. */
  uri: string;
  body?: Buffer;
}

/**
 * Answers challenges for one account. Counts nc per nonce (reset when a realm's nonce changes),
 * so a server that keeps its nonce across requests sees 00000001, 00000002, …
 */
export class DigestClient {
  readonly #nonceCounts = new Map<string, { nonce: string; count: number }>();

  constructor(
    readonly username: string,
    private readonly password: string,
  ) {}

  /** The Authorization (for 401) or Proxy-Authorization (for 407) value. */
  authorize(challenge: DigestChallenge, request: DigestRequest): string {
    const { realm, nonce, algorithm, opaque } = challenge;
    const credentials: DigestCredentials = { username: this.username, realm, nonce, uri: request.uri, algorithm, response: '' };
    const qop = challenge.qop.includes('auth') ? 'auth' : challenge.qop[0];
    if (qop !== undefined || algorithm.endsWith('-sess')) credentials.cnonce = randomBytes(12).toString('base64url');
    if (qop !== undefined) {
      credentials.qop = qop;
      credentials.nc = this.#nextNonceCount(challenge);
    }
    if (opaque !== undefined) credentials.opaque = opaque;
    credentials.response = digestResponse({ ...credentials, password: this.password, method: request.method, body: request.body });
    return formatDigestCredentials(credentials);
  }

  #nextNonceCount({ realm, nonce }: DigestChallenge): string {
    const entry = this.#nonceCounts.get(realm);
    const count = entry?.nonce === nonce ? entry.count + 1 : 1;
    this.#nonceCounts.set(realm, { nonce, count });
    return count.toString(16).padStart(8, '0');
  }
}

export interface DigestServerOptions {
  realm: string;
  /** HMAC key for nonces and opaque; servers sharing it accept each other's nonces. */
  secret: string | Buffer;
  /** After this a correct answer is refused with stale=true (default 5 minutes). */
  nonceLifetimeMs?: number;
  /** Default MD5: what room terminals and MCUs support. */
  algorithm?: 'MD5' | 'SHA-256';
  now?: () => number;
}

export type DigestVerdict = { ok: true; username: string } | { ok: false; stale: boolean; reason: string };

const NONCE_PAYLOAD_BYTES = 16;
const NONCE_MAC_BYTES = 16;

/**
 * Issues challenges and checks credentials without per-client state. A nonce is
 * timestamp ‖ random ‖ HMAC, so it cannot be forged and its age is known. Replays of the very
 * same request within the nonce lifetime are not detected (that would need nc state per nonce).
 */
export class DigestServer {
  readonly realm: string;
  readonly #secret: Buffer;
  readonly #lifetimeMs: number;
  readonly #algorithm: 'MD5' | 'SHA-256';
  readonly #now: () => number;
  readonly #opaque: string;

  constructor(options: DigestServerOptions) {
    this.realm = options.realm;
    this.#secret = Buffer.from(options.secret);
    this.#lifetimeMs = options.nonceLifetimeMs ?? 5 * 60_000;
    this.#algorithm = options.algorithm ?? 'MD5';
    this.#now = options.now ?? Date.now;
    this.#opaque = this.#mac(`opaque:${this.realm}`).subarray(0, 12).toString('base64url');
  }

  /** A WWW-Authenticate / Proxy-Authenticate value; `stale` after a verdict with stale: true. */
  challenge({ stale = false }: { stale?: boolean } = {}): string {
    const payload = Buffer.alloc(NONCE_PAYLOAD_BYTES);
    payload.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.#now()))));
    randomBytes(NONCE_PAYLOAD_BYTES - 8).copy(payload, 8);
    const nonce = Buffer.concat([payload, this.#nonceMac(payload)]).toString('base64url');
    return formatDigestChallenge({ realm: this.realm, nonce, opaque: this.#opaque, algorithm: this.#algorithm, qop: ['auth'], stale });
  }

  /** Checks credentials (parsed with parseDigestCredentials) against the account's password. */
  verify(credentials: DigestCredentials, request: { method: string; body?: Buffer }, password: string): DigestVerdict {
    const fail = (reason: string): DigestVerdict => ({ ok: false, stale: false, reason });
    if (credentials.realm !== this.realm) return fail(`realm ${JSON.stringify(credentials.realm)} is not ours`);
    if (credentials.algorithm !== this.#algorithm) return fail(`algorithm ${credentials.algorithm} was not offered`);
    if (credentials.opaque !== undefined && credentials.opaque !== this.#opaque) return fail('opaque does not match');
    const issuedAt = this.#nonceTime(credentials.nonce);
    if (issuedAt === undefined) return fail('nonce was not issued by us');

    const expected = Buffer.from(digestResponse({ ...credentials, password, method: request.method, body: request.body }));
    const given = Buffer.from(credentials.response.toLowerCase());
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail('wrong response (password?)');
    if (Math.abs(this.#now() - issuedAt) > this.#lifetimeMs) return { ok: false, stale: true, reason: 'nonce expired' };
    return { ok: true, username: credentials.username };
  }

  #nonceTime(nonce: string): number | undefined {
    const bytes = Buffer.from(nonce, 'base64url');
    if (bytes.length !== NONCE_PAYLOAD_BYTES + NONCE_MAC_BYTES || bytes.toString('base64url') !== nonce) return undefined;
    const payload = bytes.subarray(0, NONCE_PAYLOAD_BYTES);
    if (!timingSafeEqual(bytes.subarray(NONCE_PAYLOAD_BYTES), this.#nonceMac(payload))) return undefined;
    return Number(payload.readBigUInt64BE());
  }

  #nonceMac(payload: Buffer): Buffer {
    return this.#mac(Buffer.concat([Buffer.from(`nonce:${this.realm}:`), payload])).subarray(0, NONCE_MAC_BYTES);
  }

  #mac(data: string | Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(data).digest();
  }
}

/** `Digest a="x", b=y` into lower-case names and unquoted values. */
function parseDigestParams(text: string, what: string): Record<string, string> {
  const match = /^\s*(\S+)\s+(.*)$/s.exec(text);
  if (!match || match[1]?.toLowerCase() !== 'digest') {
    throw new SipParseError(`digest ${what}: expected "Digest name=value, …", got ${JSON.stringify(text.slice(0, 80))}`);
  }
  const params: Record<string, string> = {};
  for (const part of splitTopLevel(match[2] ?? '', ',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const name = trimmed.slice(0, Math.max(equals, 0)).trim().toLowerCase();
    if (!isToken(name)) throw new SipParseError(`digest ${what}: expected name=value, got ${JSON.stringify(trimmed)}`);
    const value = trimmed.slice(equals + 1).trim();
    checkParamValue(value, `digest ${what}`);
    definePlain(params, name, unquote(value));
  }
  return params;
}

function required(params: Record<string, string>, name: string, what: string): string {
  const value = params[name];
  if (value === undefined) throw new SipParseError(`digest ${what}: no ${name}`);
  return value;
}

function parseAlgorithm(text: string | undefined): DigestAlgorithm {
  if (text === undefined) return 'MD5';
  const algorithm = ALGORITHMS.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (!algorithm) throw new SipParseError(`digest: unsupported algorithm ${JSON.stringify(text)}`);
  return algorithm;
}
