// Every drone and camera feed on this node: the records in the store brought to life in the
// command centre meeting, the RTMP publishers and WHIP publications authenticated by stream key,
// the wall's status updates, and sharing feeds into meetings.
import { randomBytes } from 'node:crypto';
import type { ListenIp, Meeting, Participant, PushedStream, Sfu } from '@cityconf/sfu';
import { ProtocolError } from '../errors.js';
import { adHocMeeting, newMeetingNumber } from '../governance/meetingRecords.js';
import type { Logger } from '../log.js';
import { COMMAND_CENTRE_MEETING_ID, type FeedStatus, type ServerEventName, type ServerEvents } from '../protocol.js';
import type { Roster } from '../Roster.js';
import type { FeedRecord, Store } from '../store/types.js';
import { feedIdentity, MediaMember } from '../governance/MediaMember.js';
import { FeedRuntime } from './FeedRuntime.js';
import { FeedShare } from './FeedShare.js';

/** Feed start, stop and failure, for webhooks. */
export interface FeedEvents {
  /** The feed went live: its publisher or source delivers media. */
  feedStarted(status: FeedStatus, record: FeedRecord): void;
  /** A live feed stopped (publisher gone, source dropped, feed removed), or the feed failed (`status.error`). */
  feedEnded(status: FeedStatus, record: FeedRecord): void;
}

export interface FeedManagerDeps {
  store: Store;
  sfu: Sfu;
  roster: Roster;
  logger: Logger;
  listenIp: ListenIp;
  emitToMeeting: <E extends ServerEventName>(meetingId: string, event: E, payload: ServerEvents[E]) => void;
  /** How often the wall hears the status while a feed is live (ms, default 2000). */
  statusIntervalMs?: number;
  events?: FeedEvents;
}

/** The command centre's title in its meeting record. */
const COMMAND_CENTRE_TITLE = '指挥中心';
/** The feed's participant id in every meeting it is in (FeedRuntime.participantId). */
const feedParticipantId = (feedId: string): string => `feed-${feedId}`;

/** A new unguessable stream key (what a drone operator types into DJI Pilot's custom RTMP URL). */
export function newStreamKey(): string {
  return randomBytes(18).toString('base64url');
}

export class FeedManager {
  private readonly runtimes = new Map<string, FeedRuntime>();
  private statusTimer?: NodeJS.Timeout;
  private statusQueued = false;
  private closed = false;

  constructor(private readonly deps: FeedManagerDeps) {}

  /** Makes sure the command centre meeting exists and starts every stored feed. */
  start(): void {
    this.ensureCommandCentreRecord();
    for (const record of this.deps.store.feeds.list()) this.run(record);
    this.statusTimer = setInterval(() => void this.tick(), this.deps.statusIntervalMs ?? 2000);
    this.statusTimer.unref();
  }

  list(): FeedStatus[] {
    return [...this.runtimes.values()].map((runtime) => runtime.status());
  }

  status(feedId: string): FeedStatus | undefined {
    return this.runtimes.get(feedId)?.status();
  }

  /** A new or changed feed record: (re)started with its new settings. */
  async apply(record: FeedRecord): Promise<void> {
    const running = this.runtimes.get(record.id);
    if (running) {
      const shares = [...running.shares.keys()];
      this.runtimes.delete(record.id);
      await running.stop();
      this.run(record);
      this.deps.logger.info({ feedId: record.id, unshared: shares }, 'feed restarted with new settings');
    } else {
      this.run(record);
    }
    this.statusChanged();
  }

  /** A deleted feed: stops it and takes it out of every meeting. */
  async remove(feedId: string): Promise<void> {
    const running = this.runtimes.get(feedId);
    if (!running) return;
    this.runtimes.delete(feedId);
    await running.stop();
    this.statusChanged();
  }

  // ---- publishers -----------------------------------------------------------------------------------

  /** Why an RTMP publisher with this key may not publish, or null if it may. */
  authorizePush(streamKey: string): string | null {
    const record = this.deps.store.feeds.getByStreamKey(streamKey);
    if (!record || record.kind !== 'rtmp') return 'unknown stream key: ask the operator for the feed’s RTMP address';
    if (!this.runtimes.has(record.id)) return 'the feed is not running on this server';
    return null;
  }

  /** An authorized RTMP connection: its feed's ingest job reads it. */
  acceptPush(streamKey: string, stream: PushedStream): void {
    const record = this.deps.store.feeds.getByStreamKey(streamKey);
    const runtime = record && this.runtimes.get(record.id);
    if (!runtime) {
      stream.close('unknown stream key');
      return;
    }
    runtime.acceptPushed(stream);
  }

  /** A running WHIP feed (the endpoint checks its key). */
  whipFeedById(feedId: string): FeedRuntime | undefined {
    const runtime = this.runtimes.get(feedId);
    return runtime?.record.kind === 'whip' ? runtime : undefined;
  }

  // ---- sharing into meetings ----------------------------------------------------------------------

  /** Brings a feed into a running meeting as a participant. */
  async share(feedId: string, meetingId: string, by: string): Promise<void> {
    if (meetingId === COMMAND_CENTRE_MEETING_ID) throw new ProtocolError('BAD_REQUEST', 'every feed is in the command centre already');
    const runtime = this.runtimes.get(feedId);
    if (!runtime) throw new ProtocolError('NOT_FOUND', `no feed ${feedId}: list the feeds with listFeeds or GET /api/feeds`);
    if (runtime.shares.has(meetingId)) return;
    const live = this.deps.roster.get(meetingId);
    if (!live || !live.hasUnits || live.record.state === 'ended') {
      throw new ProtocolError('INVALID_STATE', `meeting ${meetingId} is not running: share the feed once someone has joined it`);
    }
    const meeting = await this.deps.sfu.openMeeting(meetingId);
    const participantId = feedParticipantId(feedId);
    if (meeting.participants.has(participantId)) return; // a concurrent share got there first
    const participant = meeting.addParticipant(participantId);
    const member = new MediaMember(feedIdentity(feedId, runtime.record.name), participant, live, () => {
      if (runtime.shares.get(meetingId) === share) runtime.shares.delete(meetingId);
      this.leaveMeeting(meeting, participantId);
      this.statusChanged();
    });
    const share = new FeedShare(member, this.deps.logger);
    runtime.shares.set(meetingId, share);
    await runtime.syncShares(); // the join announcement carries the producers
    if (member.isEnded) throw new ProtocolError('INVALID_STATE', `meeting ${meetingId} ended while the feed was being shared`);
    member.announce();
    this.deps.logger.info({ feedId, meetingId, by }, 'feed shared into a meeting');
    this.statusChanged();
  }

  unshare(feedId: string, meetingId: string, by: string): void {
    const share = this.runtimes.get(feedId)?.shares.get(meetingId);
    if (!share) throw new ProtocolError('NOT_FOUND', `feed ${feedId} is not shared into meeting ${meetingId}`);
    share.end();
    this.deps.logger.info({ feedId, meetingId, by }, 'feed taken out of a meeting');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.statusTimer);
    await Promise.all([...this.runtimes.values()].map((runtime) => runtime.stop()));
    this.runtimes.clear();
  }

  // ---- internals ------------------------------------------------------------------------------------

  private run(record: FeedRecord): void {
    const runtime = new FeedRuntime(record, {
      logger: this.deps.logger.child({ feedId: record.id }),
      listenIp: this.deps.listenIp,
      enterCommandCentre: (feed) => this.enterCommandCentre(feed),
      statusChanged: () => this.statusChanged(),
      stateChanged: (changed, previous) => {
        const status = changed.status();
        if (status.state === 'live') this.deps.events?.feedStarted(status, changed.record);
        else if (previous === 'live' || status.state === 'failed') this.deps.events?.feedEnded(status, changed.record);
      },
    });
    this.runtimes.set(record.id, runtime);
    void runtime.start();
  }

  private async enterCommandCentre(feed: FeedRecord): Promise<{ meeting: Meeting; participant: Participant; member: MediaMember }> {
    this.ensureCommandCentreRecord();
    const live = this.deps.roster.enter(COMMAND_CENTRE_MEETING_ID);
    const meeting = await this.deps.sfu.openMeeting(COMMAND_CENTRE_MEETING_ID);
    const participantId = feedParticipantId(feed.id);
    meeting.participants.get(participantId)?.close(); // a previous run's participant, if it lingered
    const participant = meeting.addParticipant(participantId);
    const member = new MediaMember(feedIdentity(feed.id, feed.name), participant, live, () => this.leaveMeeting(meeting, participantId));
    member.announce();
    return { meeting, participant, member };
  }

  /** Takes a feed's member out of the roster and drops an SFU meeting nobody is left in. */
  private leaveMeeting(meeting: Meeting, participantId: string): void {
    this.deps.roster.remove(meeting.id, participantId);
    if (meeting.participants.size === 0) meeting.close();
  }


  /** The command centre's meeting record: created once, and never left ended. */
  private ensureCommandCentreRecord(): void {
    const { meetings } = this.deps.store;
    const record = meetings.get(COMMAND_CENTRE_MEETING_ID);
    if (!record) {
      const created = { ...adHocMeeting(COMMAND_CENTRE_MEETING_ID, newMeetingNumber(meetings), Date.now()), title: COMMAND_CENTRE_TITLE };
      meetings.create(created);
    } else if (record.state === 'ended') {
      meetings.update(COMMAND_CENTRE_MEETING_ID, { state: 'live', endedAt: null });
    }
  }

  /** Status goes out at once (coalesced within a tick) when something changes. */
  private statusChanged(): void {
    if (this.statusQueued || this.closed) return;
    this.statusQueued = true;
    setImmediate(() => {
      this.statusQueued = false;
      this.deps.emitToMeeting(COMMAND_CENTRE_MEETING_ID, 'feeds', { feeds: this.list() });
    });
  }

  private async tick(): Promise<void> {
    const live = [...this.runtimes.values()].filter((runtime) => runtime.isLive);
    if (live.length === 0) return;
    await Promise.all(live.map((runtime) => runtime.sampleBitrate()));
    this.statusChanged();
  }
}
