// The RTMP side of pushed feeds: one RTMP server for every feed, stream keys checked against the
// feed records, each accepted publish handed to its feed's ingest job as a pushed stream.
import { RtmpServer, type PushedStream, type PushedVideo, type RtmpPublisher } from '@cityconf/sfu';
import type { Logger } from '../log.js';
import type { FeedManager } from './FeedManager.js';

/** Frames looked at before deciding whether the H.264 has B-frames (about 1/3 s at 30 fps). */
const FRAMES_TO_INSPECT = 10;
const INSPECT_TIMEOUT_MS = 1500;

/**
 * A publish as the ingest job reads it. Its video is described once a few frames are in: the
 * sequence header names codec, profile and size, but only frames show whether B-frames come.
 */
function pushedStream(publisher: RtmpPublisher): PushedStream {
  return {
    flv: publisher.flv,
    get hasAudio() {
      return publisher.audio !== undefined;
    },
    async whenVideoKnown(timeoutMs: number): Promise<PushedVideo | undefined> {
      const known = await publisher.whenVideoKnown(timeoutMs);
      if (!known) return undefined;
      const deadline = Date.now() + INSPECT_TIMEOUT_MS;
      while (publisher.videoFrames < FRAMES_TO_INSPECT && !publisher.closed && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return publisher.video;
    },
    close: (reason) => publisher.close(reason),
  };
}

/** Starts the RTMP server on `port` (0: any free port); newest connection wins for a stream key. */
export async function startRtmpIngest(feeds: FeedManager, options: { port: number; host: string; logger: Logger }): Promise<RtmpServer> {
  const active = new Map<string, RtmpPublisher>();
  const server = await RtmpServer.listen({
    port: options.port,
    host: options.host,
    logger: options.logger,
    authorize: ({ streamKey }) => feeds.authorizePush(streamKey),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') throw error;
    throw new Error(`RTMP_PORT ${options.port} is in use by another program: set RTMP_PORT to a free port, or -1 to turn RTMP ingest off`);
  });
  server.on('publish', (publisher) => {
    const { streamKey } = publisher;
    const previous = active.get(streamKey);
    active.set(streamKey, publisher);
    publisher.once('close', () => {
      if (active.get(streamKey) === publisher) active.delete(streamKey);
    });
    // A drone that reconnects often does so before its old connection times out: the new one wins.
    previous?.close('replaced by a newer connection with the same stream key');
    options.logger.info({ remoteAddress: publisher.remoteAddress }, 'rtmp publisher connected');
    feeds.acceptPush(streamKey, pushedStream(publisher));
  });
  return server;
}
