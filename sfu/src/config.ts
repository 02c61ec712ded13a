import type { types as ms } from 'mediasoup';

export interface ListenIp {
  /** Address the worker binds, e.g. 0.0.0.0 or 127.0.0.1. */
  ip: string;
  /** Address put in ICE candidates when `ip` is not reachable by clients (NAT, 0.0.0.0). */
  announcedIp?: string;
}

export interface SfuConfig {
  /** mediasoup workers to run; one per core by default. */
  numWorkers: number;
  /** UDP/TCP port range for WebRTC media, split evenly between workers. */
  rtcMinPort: number;
  rtcMaxPort: number;
  listenIps: ListenIp[];
  workerLogLevel: ms.WorkerLogLevel;
  /** Start estimate for a new transport's outgoing bitrate (bps). */
  initialAvailableOutgoingBitrate: number;
  /** Cap on what one participant may send (bps); 0 leaves it unlimited. */
  maxIncomingBitrate: number;
}
