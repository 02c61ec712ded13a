import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';
import type { AuthConfig } from '../config.js';

/**
 * The `Authorization` header LiveKit puts on a webhook: a JWT signed with the API secret
 * (HS256, iss = API key) whose `sha256` claim is the base64 SHA-256 of the body. Valid for
 * 5 minutes, as LiveKit's; signed per attempt so that retries never carry an expired token.
 */
export async function signWebhook(auth: AuthConfig, body: string): Promise<string> {
  const token = new AccessToken(auth.apiKey, auth.apiSecret, { ttl: '5m' });
  token.sha256 = createHash('sha256').update(body).digest('base64');
  return token.toJwt();
}
