// Login sessions of the admin API: short HS256 JWTs, signed with the server's API secret but with
// their own issuer and audience, so that a session is never taken for a join token or the reverse.
import { jwtVerify, SignJWT } from 'jose';
import type { AuthConfig } from '../config.js';

export const SESSION_AUDIENCE = 'cityconf-api';
const SESSION_ISSUER = 'cityconf-api';
export const SESSION_TTL_SECONDS = 12 * 3600;

const keyOf = (auth: AuthConfig): Uint8Array => new TextEncoder().encode(auth.apiSecret);

export async function signSession(auth: AuthConfig, username: string, now: number): Promise<string> {
  const issuedAt = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(username)
    .setIssuer(SESSION_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + SESSION_TTL_SECONDS)
    .sign(keyOf(auth));
}

/** The username of a valid session token, or undefined (bad signature, expired, not a session). */
export async function verifySession(auth: AuthConfig, token: string, now: number): Promise<string | undefined> {
  try {
    const { payload } = await jwtVerify(token, keyOf(auth), {
      algorithms: ['HS256'],
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
      currentDate: new Date(now),
    });
    return payload.sub;
  } catch {
    return undefined;
  }
}
