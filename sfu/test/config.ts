import type { SfuConfig } from '../src/index.js';

/** Workers (one unless asked) on loopback with their own port range, so test files never share ports. */
export function testSfuConfig(rtcMinPort: number, numWorkers = 1): SfuConfig {
  return {
    numWorkers,
    rtcMinPort,
    rtcMaxPort: rtcMinPort + 999,
    listenIps: [{ ip: '127.0.0.1' }],
    workerLogLevel: 'none',
    initialAvailableOutgoingBitrate: 1_000_000,
    maxIncomingBitrate: 0,
  };
}
