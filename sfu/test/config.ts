import type { SfuConfig } from '../src/index.js';

/** One worker on loopback with its own port range, so test files never share ports. */
export function testSfuConfig(rtcMinPort: number): SfuConfig {
  return {
    numWorkers: 1,
    rtcMinPort,
    rtcMaxPort: rtcMinPort + 999,
    listenIps: [{ ip: '127.0.0.1' }],
    workerLogLevel: 'none',
    initialAvailableOutgoingBitrate: 1_000_000,
    maxIncomingBitrate: 0,
  };
}
