// A small load run in the normal suite: 60 simulated units (bench/bots) in one meeting over the real
// signaling protocol and plain RTP, last-N mode, with misbehaving units (silent, garbage RTP, and
// vanishing without leave). The 550-unit run is `npm run bench -- meeting` (BENCHMARKS.md).
import { expect, it } from 'vitest';
import { runMeetingScenario } from '../../bench/bots/meetingScenario.js';

it('60 units join, hear and see every speaker without loss, and vanished units are dropped', async () => {
  const result = await runMeetingScenario({
    units: 60,
    galleryViewers: 2,
    gallerySize: 10,
    durationSeconds: 16,
    switchSeconds: 5,
    chromium: 0,
    badBots: 3,
    numWorkers: 1,
    // socket.io drops a silent connection after interval + timeout (45 s by default): shortened here.
    heartbeatMs: { interval: 1000, timeout: 2000 },
  });
  expect(result.units_joined).toBe(60);
  expect(result.roster_converged_ms).not.toBeNull();
  expect(result.speaker_switches).toBeGreaterThanOrEqual(3);
  expect(result.bots_missing_speaker_media).toBe(0);
  expect(result.speaker_switch_ms).not.toBeNull();
  expect(result.loss_pct).toBeLessThan(1);
  expect(result.pps_out).toBeGreaterThan(result.pps_in);
  expect(result.bad_bots).toBe(3);
  expect(result.bad_bots_gone_ms).not.toBeNull();
  expect(result.request_errors).toBe(0);
}, 60_000);
