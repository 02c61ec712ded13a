// The server registers with the platform's SIP registrar (SIP_REGISTRAR / SIP_USERNAME /
// SIP_PASSWORD): sipp plays the registrar (digest 401, a 4 s binding that must be refreshed, then
// 60 s), and /healthz says where registration stands. Bad settings stop the server at start.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runSipp } from '../../cascade/test/sipp.js';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';

describe('SIP registration', () => {
  it('registers with digest, refreshes the binding and reports it in /healthz', async () => {
    const registrarPort = await freePort();
    const sipp = runSipp('registrar.xml', ['-p', String(registrarPort), '-mp', String(await freePort()), '-set', 'user', 'city-conf', '-set', 'password', 'reg-pw']);
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      rtmpPort: -1,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      dataDir: mkdtempSync(join(tmpdir(), 'cityconf-test-')),
      sfu: { numWorkers: 1 },
      sip: { port: 0, registrar: { uri: `sip:127.0.0.1:${registrarPort}`, username: 'city-conf', password: 'reg-pw', expires: 600 } },
    });
    try {
      const registration = async () => ((await (await fetch(`${server.url}/healthz`)).json()) as { sip: { registration: { state: string; expires: number | null } } }).sip.registration;
      // The first binding is granted for 4 s; the refresh within 6 s gets 60 s.
      await expect.poll(registration, { timeout: 15_000 }).toMatchObject({ state: 'registered', expires: 60 });
      const result = await sipp.result;
      expect(result.code, result.errors || result.output).toBe(0);
    } finally {
      sipp.kill();
      await server.close();
    }
  }, 40_000);

  it('refuses a registrar without an account, or one that is not a SIP URI', () => {
    expect(() => loadConfig({ SIP_REGISTRAR: 'sip:10.1.1.1' })).toThrow('SIP_REGISTRAR needs SIP_USERNAME and SIP_PASSWORD');
    expect(() => loadConfig({ SIP_REGISTRAR: 'http://10.1.1.1', SIP_USERNAME: 'a', SIP_PASSWORD: 'b' })).toThrow('expected a SIP URI');
    expect(loadConfig({ SIP_REGISTRAR: 'sip:10.1.1.1', SIP_USERNAME: 'a', SIP_PASSWORD: 'b' }).sip.registrar).toEqual({ uri: 'sip:10.1.1.1', username: 'a', password: 'b', expires: 3600 });
  });
});
