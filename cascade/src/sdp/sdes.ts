import { randomBytes } from 'node:crypto';
import type { CryptoAttribute } from './SessionDescription.js';

/** The SDES suites mediasoup's PlainTransport keys (RFC 4568 names), most preferred first. */
export const SRTP_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;
export type SrtpSuite = (typeof SRTP_SUITES)[number];

/** Master key (16 bytes) and salt (14 bytes) of the AES_CM_128 suites. */
const KEY_AND_SALT_BYTES = 30;

export interface SdesKey {
  tag: number;
  suite: SrtpSuite;
  /** Base64 of the 30-byte master key and salt. */
  key: string;
}

/** A fresh key for our side of an SRTP stream (base64, 30 bytes). */
export function generateSdesKey(): string {
  return randomBytes(KEY_AND_SALT_BYTES).toString('base64');
}

/**
 * The key of a crypto line we can use, or undefined: a suite we have, one `inline:` key of 30
 * bytes with an optional lifetime, no MKI (mediasoup does not read one), no session parameter
 * other than the window size hint.
 */
export function usableSdesKey({ tag, suite, keyParams, sessionParams }: CryptoAttribute): SdesKey | undefined {
  if (!(SRTP_SUITES as readonly string[]).includes(suite)) return undefined;
  if (sessionParams.some((parameter) => !parameter.startsWith('WSH='))) return undefined;
  const match = /^inline:([A-Za-z0-9+/]{40})(?:\|(?:2\^)?\d+)?$/.exec(keyParams);
  if (!match || Buffer.from(match[1]!, 'base64').length !== KEY_AND_SALT_BYTES) return undefined;
  return { tag, suite: suite as SrtpSuite, key: match[1]! };
}

export function cryptoAttribute({ tag, suite, key }: SdesKey): CryptoAttribute {
  return { tag, suite, keyParams: `inline:${key}`, sessionParams: [] };
}
