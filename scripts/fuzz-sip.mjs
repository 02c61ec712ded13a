#!/usr/bin/env node
// Longer fuzz runs of the SIP parsers than the 100k of cascade/test/sip-fuzz.test.ts, with the same
// harness (cascade/src/sip/fuzz.ts), run from the built package.
//
// Usage:  npx tsc -b cascade && node scripts/fuzz-sip.mjs [iterations=1000000] [seed=random]
//
// Prints a JSON report; exits 1 when an input threw anything but SipParseError, failed to round-trip,
// or took too long. Each failure carries its input in base64; rerun with the printed seed to reproduce.
import { fuzzSipParsers } from '../cascade/dist/sip/fuzz.js';

const [iterationsArg = '1000000', seedArg] = process.argv.slice(2);
const iterations = Number(iterationsArg);
const seed = seedArg === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(seedArg);
if (!Number.isSafeInteger(iterations) || iterations < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: node scripts/fuzz-sip.mjs [iterations] [seed]  (both whole numbers)');
  process.exit(2);
}

const report = fuzzSipParsers({ iterations, seed });
console.log(JSON.stringify({ seed, ...report }, null, 2));
if (report.failures.length > 0) process.exit(1);
