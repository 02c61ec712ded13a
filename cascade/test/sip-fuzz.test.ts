// 100k generated and mutated inputs through the datagram and stream parsers (the harness is
// cascade/src/sip/fuzz.ts; scripts/fuzz-sip.mjs runs it longer).
import { expect, it } from 'vitest';
import { fuzzSipParsers } from '../src/sip/fuzz.js';

it('parses or refuses with SipParseError 100k inputs, round-trips what it parses', () => {
  const report = fuzzSipParsers({ iterations: 100_000, seed: 20_240_611 });
  expect(report.failures).toEqual([]);
  expect(report.accepted).toBeGreaterThan(10_000);
  expect(report.rejected).toBeGreaterThan(10_000);
});
