// Digest authentication: the RFC worked examples, and our client against our server.
import { describe, expect, it } from 'vitest';
import {
  chooseDigestChallenge,
  digestResponse,
  DigestClient,
  DigestServer,
  formatDigestChallenge,
  formatDigestCredentials,
  parseDigestChallenge,
  parseDigestCredentials,
  type DigestAlgorithm,
} from '../src/sip/digest.js';
import { SipParseError } from '../src/sip/errors.js';

describe('digestResponse', () => {
  it('reproduces the RFC 2617 §3.5 example', () => {
    const response = digestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it.each([
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const)('reproduces the RFC 7616 §3.9.1 example with %s', (algorithm, expected) => {
    const response = digestResponse({
      algorithm,
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      password: 'Circle of Life',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    });
    expect(response).toBe(expected);
  });
});

describe('challenge and credential headers', () => {
  it('parses a challenge as MCUs send it and formats it back', () => {
    const challenge = parseDigestChallenge('Digest realm="huawei.com", nonce="1a2b3c4d5e", opaque="6f7e", algorithm=MD5, qop="auth,auth-int", stale=TRUE');
    expect(challenge).toEqual({ realm: 'huawei.com', nonce: '1a2b3c4d5e', opaque: '6f7e', algorithm: 'MD5', qop: ['auth', 'auth-int'], stale: true });
    expect(parseDigestChallenge(formatDigestChallenge(challenge))).toEqual(challenge);
    expect(parseDigestChallenge('digest realm="r",nonce="n"')).toEqual({ realm: 'r', nonce: 'n', algorithm: 'MD5', qop: [], stale: false });
  });

  it('round-trips credentials, quoting what RFC 2617 quotes', () => {
    const text = 'Digest username="1001", realm="gov.example.cn", nonce="abc", uri="sip:gov.example.cn", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="xyz", opaque="op", qop=auth, nc=00000002';
    expect(formatDigestCredentials(parseDigestCredentials(text))).toBe(text);
  });

  it('picks the strongest challenge it supports', () => {
    const values = ['Digest realm="r", nonce="1", algorithm=MD5', 'Digest realm="r", nonce="2", algorithm=SHA-512-256', 'Digest realm="r", nonce="3", algorithm=SHA-256'];
    expect(chooseDigestChallenge(values)?.algorithm).toBe('SHA-256');
    expect(chooseDigestChallenge(['Basic realm="r"'])).toBeUndefined();
  });

  it.each(['Basic realm="r"', 'Digest nonce="n"', 'Digest realm="r", nonce="n", algorithm=SHA-512-256', 'Digest realm="r, nonce="n"'])(
    'rejects the challenge %s',
    (text) => {
      expect(() => parseDigestChallenge(text)).toThrow(SipParseError);
    },
  );

  it('rejects credentials with qop but no nc or cnonce', () => {
    expect(() => parseDigestCredentials('Digest username="u", realm="r", nonce="n", uri="sip:a", response="00", qop=auth')).toThrow(/no nc/);
  });
});

describe('DigestClient against DigestServer', () => {
  const REGISTER = { method: 'REGISTER', uri: 'sip:gov.example.cn' };

  function setup(algorithm: 'MD5' | 'SHA-256' = 'MD5') {
    let now = 1_700_000_000_000;
    const server = new DigestServer({ realm: 'gov.example.cn', secret: 'test-secret-0123456789', algorithm, nonceLifetimeMs: 60_000, now: () => now });
    return { server, advance: (ms: number) => (now += ms) };
  }

  it.each(['MD5', 'SHA-256'] as const)('accepts the right password with %s and counts nc per nonce', (algorithm) => {
    const { server } = setup(algorithm);
    const client = new DigestClient('1001', 'pa55:word');
    const challenge = parseDigestChallenge(server.challenge());
    expect(challenge).toMatchObject({ realm: 'gov.example.cn', algorithm, qop: ['auth'], stale: false });
    const first = parseDigestCredentials(client.authorize(challenge, REGISTER));
    const second = parseDigestCredentials(client.authorize(challenge, { ...REGISTER, method: 'INVITE' }));
    expect([first.nc, second.nc]).toEqual(['00000001', '00000002']);
    expect(first.cnonce).not.toBe(second.cnonce);
    expect(first.opaque).toBe(challenge.opaque);
    expect(server.verify(first, REGISTER, 'pa55:word')).toEqual({ ok: true, username: '1001' });
    expect(server.verify(second, { method: 'INVITE' }, 'pa55:word')).toEqual({ ok: true, username: '1001' });
    const fresh = parseDigestCredentials(client.authorize(parseDigestChallenge(server.challenge()), REGISTER));
    expect(fresh.nc).toBe('00000001');
  });

  it('refuses a wrong password, another method, and a forged or foreign nonce', () => {
    const { server } = setup();
    const client = new DigestClient('1001', 'right');
    const credentials = parseDigestCredentials(client.authorize(parseDigestChallenge(server.challenge()), REGISTER));
    expect(server.verify(credentials, REGISTER, 'wrong')).toMatchObject({ ok: false, stale: false });
    expect(server.verify(credentials, { method: 'INVITE' }, 'right')).toMatchObject({ ok: false, stale: false });
    const forged = { ...credentials, nonce: `${credentials.nonce.slice(0, -2)}AA` };
    expect(server.verify(forged, REGISTER, 'right')).toMatchObject({ ok: false, stale: false, reason: 'nonce was not issued by us' });
    const other = new DigestServer({ realm: 'gov.example.cn', secret: 'another-secret-98765' });
    expect(other.verify(credentials, REGISTER, 'right')).toMatchObject({ ok: false, stale: false });
  });

  it('answers stale=true for a right answer to an expired nonce, and the client recovers', () => {
    const { server, advance } = setup();
    const client = new DigestClient('1001', 'right');
    const challenge = parseDigestChallenge(server.challenge());
    advance(61_000);
    const late = parseDigestCredentials(client.authorize(challenge, REGISTER));
    expect(server.verify(late, REGISTER, 'right')).toEqual({ ok: false, stale: true, reason: 'nonce expired' });
    expect(server.verify(late, REGISTER, 'wrong')).toMatchObject({ ok: false, stale: false });
    const renewed = parseDigestChallenge(server.challenge({ stale: true }));
    expect(renewed.stale).toBe(true);
    expect(server.verify(parseDigestCredentials(client.authorize(renewed, REGISTER)), REGISTER, 'right')).toMatchObject({ ok: true });
  });

  it.each<[string, DigestAlgorithm, string[]]>([
    ['MD5-sess with auth-int', 'MD5-sess', ['auth-int']],
    ['no qop (RFC 2069)', 'MD5', []],
  ])('answers %s so that the server side formula agrees', (_name, algorithm, qop) => {
    const client = new DigestClient('u', 'p');
    const body = Buffer.from('v=0\r\n');
    const credentials = parseDigestCredentials(client.authorize({ realm: 'r', nonce: 'n', algorithm, qop: qop as ('auth' | 'auth-int')[], stale: false }, { method: 'INVITE', uri: 'sip:x', body }));
    expect(credentials.qop).toBe(qop[0]);
    expect(credentials.response).toBe(digestResponse({ ...credentials, password: 'p', method: 'INVITE', body }));
  });
});
