// `npm run token` prints a LiveKit-format JWT as its last stdout line, signed with the configured key.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { verifyJoinToken } from '../src/auth/tokens.js';
import { DEV_AUTH } from '../src/config.js';

const cli = fileURLToPath(new URL('../dist/cli/token.js', import.meta.url));
const run = promisify(execFile);

async function token(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run "npx tsc -b" (npm test does)`);
  return run(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
}

describe('token CLI', () => {
  it('prints a token the server accepts, with the grants asked for', async () => {
    const { stdout, stderr } = await token([
      '--room', 'city-plenary', '--identity', 'county-a', '--name', '甲县人民政府', '--admin',
      '--attribute', 'unit=甲县/甲县人民政府', '--attribute', 'level=county',
    ]);
    const jwt = stdout.trim().split('\n').at(-1)!;
    const grant = await verifyJoinToken(DEV_AUTH, jwt, 'city-plenary');
    expect(grant).toMatchObject({ identity: 'county-a', name: '甲县人民政府', isAdmin: true, canPublish: true });
    expect(grant.attributes).toEqual({ unit: '甲县/甲县人民政府', level: 'county' });
    expect(stderr).toContain(`/m/city-plenary?token=${jwt}`);
  });

  it('signs with LIVEKIT_API_KEY / LIVEKIT_API_SECRET', async () => {
    const auth = { apiKey: 'prodkey', apiSecret: 'a-production-secret-of-32-chars!!' };
    const { stdout } = await token(['--room', 'r1', '--identity', 'u', '--name', 'U', '--no-publish'], {
      LIVEKIT_API_KEY: auth.apiKey,
      LIVEKIT_API_SECRET: auth.apiSecret,
    });
    const jwt = stdout.trim();
    expect(await verifyJoinToken(auth, jwt, 'r1')).toMatchObject({ canPublish: false, canSubscribe: true });
    await expect(verifyJoinToken(DEV_AUTH, jwt, 'r1')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('explains missing or invalid arguments', async () => {
    await expect(token(['--room', 'r1'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--identity') });
    await expect(token(['--room', 'bad room', '--identity', 'u', '--name', 'n'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('meetingId must be'),
    });
  });
});
