// Reads the claims of a LiveKit-style access token for display only: the server verifies it.

export interface TokenClaims {
  identity?: string;
  name?: string;
  room?: string;
  expiresAt?: Date;
}

export function readTokenClaims(token: string): TokenClaims | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== 'object' || claims === null) return null;
    const { sub, name, exp, video } = claims as Record<string, unknown>;
    const room = typeof video === 'object' && video !== null ? (video as Record<string, unknown>).room : undefined;
    return {
      identity: typeof sub === 'string' ? sub : undefined,
      name: typeof name === 'string' ? name : undefined,
      room: typeof room === 'string' ? room : undefined,
      expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined,
    };
  } catch {
    return null;
  }
}
