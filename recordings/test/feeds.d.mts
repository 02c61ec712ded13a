import type { ListenIp, mediasoupTypes as ms } from '@cityconf/sfu';
import type { Logger } from 'pino';

export type SyntheticCodec = 'opus' | 'vp8' | 'h264';

export interface SyntheticFeeds {
  /** In the order of `codecs`. */
  producers: ms.Producer[];
  pid: number | undefined;
  stop(): Promise<unknown>;
}

export function syntheticFeeds(router: ms.Router, listenIp: ListenIp, codecs: SyntheticCodec[], logger: Logger): Promise<SyntheticFeeds>;
