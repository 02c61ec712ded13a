// One feed running on this node: its participant in the command centre, the ingest job or WHIP
// publication that produces its media there, its status, and the meetings it is shared into.
import { IngestJob, type IngestSource, type ListenIp, type Meeting, type mediasoupTypes as ms, type Participant, type PushedStream } from '@cityconf/sfu';
import type { Logger } from '../log.js';
import type { FeedState, FeedStatus } from '../protocol.js';
import type { FeedRecord } from '../store/types.js';
import type { MediaMember } from '../governance/MediaMember.js';
import type { FeedShare } from './FeedShare.js';

/** What a runtime needs from the manager. */
export interface FeedRuntimeHost {
  readonly logger: Logger;
  readonly listenIp: ListenIp;
  /** Opens the feed's participant and member in the command centre. */
  enterCommandCentre(feed: FeedRecord): Promise<{ meeting: Meeting; participant: Participant; member: MediaMember }>;
  /** Something in the status changed: the wall should hear of it now. */
  statusChanged(): void;
  /** The state changed from `previous` (events: went live, stopped, failed). */
  stateChanged(runtime: FeedRuntime, previous: FeedState): void;
}

/** Waits before running a failed feed again: doubling from the first to the last (ms). */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 60_000;

/** A WHIP publication, as the runtime holds it (sfu's WhipPublication). */
export interface FeedPublication {
  readonly producers: ms.Producer[];
  close(): void;
  once(event: 'closed', listener: () => void): unknown;
}

export class FeedRuntime {
  readonly shares = new Map<string, FeedShare>();
  private state: FeedState = 'waiting';
  private since = Date.now();
  private liveSince: number | null = null;
  private error: string | null = null;
  private bitrateKbps = 0;
  private job?: IngestJob;
  private publication?: FeedPublication;
  private entered?: { meeting: Meeting; participant: Participant; member: MediaMember };
  private retryDelay = RETRY_FIRST_MS;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Pushed connections waiting for the ingest job, and the job waiting for one. */
  private readonly pushedQueue: PushedStream[] = [];
  private pushedWaiter?: (stream: PushedStream) => void;

  constructor(
    public record: FeedRecord,
    private readonly host: FeedRuntimeHost,
  ) {}

  get id(): string {
    return this.record.id;
  }

  /** The feed's participant id in every meeting it is in. */
  get participantId(): string {
    return `feed-${this.record.id}`;
  }

  /** The producers in the command centre now (none while the feed is down). */
  get producers(): ms.Producer[] {
    return [...(this.entered?.participant.producers.values() ?? [])];
  }

  get router(): Promise<ms.Router> | undefined {
    return this.entered?.participant.mediaRouter();
  }

  get isLive(): boolean {
    return this.state === 'live';
  }

  status(): FeedStatus {
    const video = this.job?.video;
    return {
      id: this.record.id,
      name: this.record.name,
      kind: this.record.kind,
      state: this.state,
      since: this.since,
      liveSince: this.liveSince,
      error: this.error,
      participantId: this.entered?.participant.id ?? '',
      video: video
        ? { codec: video.codec ?? 'h264', width: video.width ?? null, height: video.height ?? null, transcoded: video.transcoded }
        : this.publication
          ? { codec: codecOf(this.publication.producers), width: null, height: null, transcoded: false }
          : null,
      bitrateKbps: this.state === 'live' ? this.bitrateKbps : 0,
      sharedInto: [...this.shares.keys()],
    };
  }

  /** Opens the feed in the command centre and starts reading it (pull) or waiting for it (push). */
  async start(): Promise<void> {
    if (this.stopped) return;
    try {
      const entered = await this.host.enterCommandCentre(this.record);
      this.entered = entered;
      if (this.stopped) {
        await this.teardown(); // deleted while it was starting
        return;
      }
      entered.participant.once('close', () => {
        if (this.entered === entered) this.down(new Error('the media server for the feed closed'));
      });
      this.setState('waiting'); // before the job runs: its 'live' may come at any moment
      if (this.record.kind !== 'whip') {
        const router = await entered.participant.mediaRouter();
        this.job = await IngestJob.start({
          feedId: entered.participant.id,
          router,
          source: this.source(),
          listenIp: this.host.listenIp,
          logger: this.host.logger,
          transcode: this.record.transcode,
        });
        this.watchJob(this.job);
        if (this.stopped) {
          await this.teardown();
          return;
        }
        for (const producer of this.job.producers) await entered.participant.adopt(producer);
        for (const producer of this.job.producers) entered.member.producerAdded(producer);
      }
      await this.syncShares();
    } catch (error) {
      this.down(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** An RTMP connection with this feed's key: handed to the ingest job. */
  acceptPushed(stream: PushedStream): void {
    if (this.pushedWaiter) {
      const waiter = this.pushedWaiter;
      this.pushedWaiter = undefined;
      waiter(stream);
    } else {
      for (const queued of this.pushedQueue.splice(0)) queued.close('a newer connection with the same stream key replaced it');
      this.pushedQueue.push(stream);
    }
  }

  /** A WHIP publication made on this feed's router: replaces any earlier one. */
  async acceptPublication(publication: FeedPublication): Promise<void> {
    const entered = this.entered;
    if (!entered) {
      publication.close();
      throw new Error('the feed is not running; try again in a few seconds');
    }
    this.publication?.close();
    this.publication = publication;
    publication.once('closed', () => {
      if (this.publication !== publication) return;
      this.publication = undefined;
      if (!this.stopped) this.setState('reconnecting');
    });
    for (const producer of publication.producers) {
      await entered.participant.adopt(producer);
      entered.member.producerAdded(producer);
      producer.observer.once('close', () => {
        if (!entered.member.isEnded) entered.member.producerClosed(producer.id);
      });
    }
    this.liveSince = Date.now();
    this.setState('live');
    await this.syncShares();
  }

  /** The router the feed's WHIP publication must be made on. */
  async publicationRouter(): Promise<ms.Router> {
    if (!this.entered) throw new Error('the feed is not running; try again in a few seconds');
    return this.entered.participant.mediaRouter();
  }

  async syncShares(): Promise<void> {
    const routerPromise = this.router;
    if (!routerPromise) return;
    const router = await routerPromise.catch(() => undefined);
    if (!router) return;
    await Promise.all([...this.shares.values()].map((share) => share.sync(this.producers, router)));
  }

  /** Samples what reaches the SFU (called every couple of seconds while live). */
  async sampleBitrate(): Promise<void> {
    if (this.state !== 'live') return;
    let bps = 0;
    for (const producer of this.producers) {
      if (producer.closed) continue;
      const stats = await producer.getStats().catch(() => []);
      for (const stat of stats) bps += stat.bitrate ?? 0;
    }
    this.bitrateKbps = Math.round(bps / 1000);
  }

  /** Stops everything the feed runs; its shares end. */
  async stop(): Promise<void> {
    if (this.state === 'live') this.setState('waiting');
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const share of [...this.shares.values()]) share.end();
    await this.teardown();
  }

  private source(): IngestSource {
    const { kind, url, name } = this.record;
    switch (kind) {
      case 'rtmp':
        return { kind: 'push', name: `rtmp feed ${name}`, nextStream: (signal) => this.nextPushed(signal) };
      case 'rtsp':
        return { kind: 'rtsp', url: url! };
      case 'srt':
        return { kind: 'srt', url: url! };
      case 'whip':
        throw new Error('a WHIP feed has no ingest source');
    }
  }

  private nextPushed(signal: AbortSignal): Promise<PushedStream> {
    const queued = this.pushedQueue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.pushedWaiter = resolve;
      signal.addEventListener('abort', () => {
        if (this.pushedWaiter === resolve) this.pushedWaiter = undefined;
        reject(new Error('the feed stopped'));
      });
    });
  }

  private watchJob(job: IngestJob): void {
    job.on('live', () => {
      this.retryDelay = RETRY_FIRST_MS;
      this.liveSince = Date.now();
      this.setState('live');
    });
    job.on('ended', () => this.setState('reconnecting'));
    job.on('reconnecting', () => {
      if (this.state === 'live') this.setState('reconnecting');
    });
    job.on('rejected', (reason) => this.setState('failed', reason.message));
    job.on('failed', (reason) => this.down(reason));
  }

  /** The feed could not run: marks it failed, closes what is open, and runs it again later. */
  private down(reason: Error): void {
    if (this.stopped) return;
    this.host.logger.warn({ feedId: this.id, err: reason, retryMs: this.retryDelay }, 'feed failed; running it again later');
    this.setState('failed', reason.message);
    void this.teardown().then(() => {
      if (this.stopped) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.start(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    });
  }

  private async teardown(): Promise<void> {
    const { job, publication, entered } = this;
    this.job = undefined;
    this.publication = undefined;
    this.entered = undefined;
    for (const queued of this.pushedQueue.splice(0)) queued.close('the feed stopped');
    publication?.close();
    await job?.stop();
    entered?.member.end();
  }

  private setState(state: FeedState, error: string | null = null): void {
    if (state !== 'live') this.liveSince = null;
    if (this.state === state && this.error === error) return;
    const previous = this.state;
    this.state = state;
    this.error = error;
    this.since = Date.now();
    this.host.logger.info({ feedId: this.id, state, error }, 'feed state');
    this.host.statusChanged();
    if (previous !== state) this.host.stateChanged(this, previous);
  }
}

function codecOf(producers: ms.Producer[]): string | null {
  const video = producers.find((producer) => producer.kind === 'video');
  return video?.rtpParameters.codecs[0]?.mimeType.split('/')[1]?.toLowerCase() ?? null;
}
