// What our join tokens carry on the wire (LiveKit's claims, so LiveKit tools and SDKs read them the
// same way), how tokens made elsewhere without our metadata get a role, and that OPERATOR_API_KEY
// replaces the development key.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { mintToken, verifyJoinToken } from '../src/auth/tokens.js';
import { DEV_AUTH, DEV_OPERATOR_API_KEY } from '../src/config.js';
import { startServer } from '../src/server.js';

/** The JWT's claims, read without verifying (what any LiveKit tool sees). */
function claimsOf(token: string): { sub: string; metadata: string; video: Record<string, unknown> } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('join token claims', () => {
  it('writes the role and unit in metadata, roomAdmin for chair roles, canPublish false for observers', async () => {
    const chair = claimsOf(await mintToken(DEV_AUTH, { room: 'm1', identity: 'city', name: '市政府办公室', role: 'chair', unitId: 'city' }));
    expect(JSON.parse(chair.metadata)).toEqual({ role: 'chair', unitId: 'city' });
    expect(chair.video).toMatchObject({ room: 'm1', roomJoin: true, roomAdmin: true, canPublish: true, canSubscribe: true });
    const cochair = claimsOf(await mintToken(DEV_AUTH, { room: 'm1', identity: 'county-a', name: '甲县', role: 'cochair' }));
    expect(cochair.video).toMatchObject({ roomAdmin: true });
    const observer = claimsOf(await mintToken(DEV_AUTH, { room: 'm1', identity: 'press', name: '列席', role: 'observer' }));
    expect(observer.video).toMatchObject({ roomAdmin: false, canPublish: false });
    const unit = claimsOf(await mintToken(DEV_AUTH, { room: 'm1', identity: 'town-b', name: '乙镇', role: 'participant', unitId: 'town-b' }));
    expect(unit.video).toMatchObject({ roomAdmin: false, canPublish: true });
  });

  it('gives tokens made elsewhere without our metadata a role from roomAdmin and canPublish', async () => {
    const foreign = async (grant: { roomAdmin?: boolean; canPublish?: boolean }, metadata?: string): Promise<string> => {
      const token = new AccessToken(DEV_AUTH.apiKey, DEV_AUTH.apiSecret, { identity: 'x', ...(metadata === undefined ? {} : { metadata }) });
      token.addGrant({ room: 'm1', roomJoin: true, ...grant });
      return token.toJwt();
    };
    expect((await verifyJoinToken(DEV_AUTH, await foreign({ roomAdmin: true }), 'm1')).role).toBe('chair');
    expect((await verifyJoinToken(DEV_AUTH, await foreign({ canPublish: false }), 'm1')).role).toBe('observer');
    expect((await verifyJoinToken(DEV_AUTH, await foreign({}), 'm1')).role).toBe('participant');
    // Free-text metadata that is not ours is ignored, not an error.
    const free = await verifyJoinToken(DEV_AUTH, await foreign({ roomAdmin: true }, '会议室 3 号屏'), 'm1');
    expect(free).toMatchObject({ role: 'chair', unitId: 'x' });
  });
});

describe('OPERATOR_API_KEY', () => {
  it('replaces the development key: the configured key is the operator, the default is refused', async () => {
    const previous = process.env.OPERATOR_API_KEY;
    process.env.OPERATOR_API_KEY = 'prod-operator-key-7f3c';
    const server = await startServer({ host: '127.0.0.1', port: 0, rtmpPort: -1, sip: { port: -1 }, logLevel: 'silent', dataDir: mkdtempSync(join(tmpdir(), 'cityconf-test-')), sfu: { numWorkers: 1 } });
    try {
      const units = (key: string) => fetch(`${server.url}/api/units`, { headers: { authorization: `Bearer ${key}` } });
      expect((await units('prod-operator-key-7f3c')).status).toBe(200);
      const refused = await units(DEV_OPERATOR_API_KEY);
      expect(refused.status).toBe(401);
    } finally {
      await server.close();
      if (previous === undefined) delete process.env.OPERATOR_API_KEY;
      else process.env.OPERATOR_API_KEY = previous;
    }
  });
});
