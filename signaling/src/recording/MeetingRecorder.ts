// Recording meetings on this node: starts and stops a MeetingRecording per meeting, feeds it every
// producer of the meeting (piped to the recording's router), the active speaker and the broadcast
// venue, and tells the meeting (录制中) when recording starts and stops.
import type { ListenIp, Meeting, mediasoupTypes as ms, ProducerAppData, Sfu } from '@cityconf/sfu';
import { MeetingRecording, RecordingError, type RecordingLibrary, type RecordingManifest, type StopReason } from '@cityconf/recordings';
import { ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MeetingControlState, RecordingState, ServerEventName, ServerEvents } from '../protocol.js';
import type { Roster } from '../Roster.js';
import type { Store } from '../store/types.js';
import { NOT_RECORDING, type RecordingControl } from './RecordingControl.js';

/** Recording start and end, for webhooks. */
export interface RecordingEvents {
  recordingStarted(manifest: RecordingManifest): void;
  /** The recording is finished: files closed, composite made (or status says why not). */
  recordingEnded(manifest: RecordingManifest): void;
}

export interface MeetingRecorderDeps {
  sfu: Sfu;
  roster: Roster;
  store: Store;
  library: RecordingLibrary;
  root: string;
  listenIp: ListenIp;
  logger: Logger;
  minFreeBytes: number;
  emitToMeeting: <E extends ServerEventName>(meetingId: string, event: E, payload: ServerEvents[E]) => void;
  events?: RecordingEvents;
}

interface Running {
  recording: MeetingRecording;
  meeting: Meeting;
  state: RecordingState;
  /** Producers being recorded (by id): each once, whichever way it was found. */
  recorded: Set<string>;
  detach: () => void;
  stopping?: Promise<void>;
}

export class MeetingRecorder implements RecordingControl {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Set<string>();
  /** Recordings being finished (files closed, composite made). */
  private readonly finishing = new Set<Promise<void>>();

  constructor(private readonly deps: MeetingRecorderDeps) {}

  state(meetingId: string): RecordingState {
    return this.running.get(meetingId)?.state ?? NOT_RECORDING;
  }

  get activeCount(): number {
    return this.running.size;
  }

  async start(meetingId: string, by: string): Promise<string> {
    if (this.running.has(meetingId) || this.starting.has(meetingId)) {
      throw new ProtocolError('INVALID_STATE', 'the meeting is being recorded already');
    }
    const meeting = this.deps.sfu.meeting(meetingId);
    if (!meeting || meeting.isClosed) throw new ProtocolError('INVALID_STATE', `meeting ${meetingId} is not running: nobody has joined it`);
    this.starting.add(meetingId);
    let recording: MeetingRecording;
    try {
      recording = await MeetingRecording.start({
        root: this.deps.root,
        meetingId,
        title: this.deps.store.meetings.get(meetingId)?.title,
        router: meeting.router,
        listenIp: this.deps.listenIp,
        logger: this.deps.logger,
        disk: { minFreeBytes: this.deps.minFreeBytes },
      });
    } catch (error) {
      if (error instanceof RecordingError && error.code === 'DISK_FULL') {
        throw new ProtocolError('INVALID_STATE', `录制无法开始：磁盘空间不足 (the recordings disk is nearly full: ${error.message})`);
      }
      throw error;
    } finally {
      this.starting.delete(meetingId);
    }
    const state: RecordingState = { active: true, recordingId: recording.id, since: Date.now(), by };
    const onProducer = (producer: ms.Producer): void => void this.record(running, producer);
    const onSpeaker = (participantId: string | null): void => recording.setSpeaker(participantId);
    const onClose = (): void => void this.stop(meetingId, 'the meeting ended');
    meeting.on('produceradded', onProducer);
    meeting.on('activespeaker', onSpeaker);
    meeting.once('close', onClose);
    const running: Running = {
      recording,
      meeting,
      state,
      recorded: new Set(),
      detach: () => {
        meeting.off('produceradded', onProducer);
        meeting.off('activespeaker', onSpeaker);
        meeting.off('close', onClose);
      },
    };
    this.running.set(meetingId, running);
    recording.on('stopped', (reason: StopReason) => {
      if (reason === 'disk-full') void this.finish(meetingId, running, 'disk-full');
    });
    recording.on('trackfailed', (track, error) => this.deps.logger.warn({ meetingId, track: track.id, err: error }, 'a track could not be recorded'));
    recording.setSpeaker(meeting.activeSpeakerId);
    const live = this.deps.roster.get(meetingId);
    if (live) this.controlChanged(meetingId, live.control.state());
    for (const producer of meeting.producers) void this.record(running, producer);
    this.deps.logger.info({ meetingId, recordingId: recording.id, by }, 'recording started');
    this.deps.emitToMeeting(meetingId, 'recording', { recording: state });
    this.deps.events?.recordingStarted(recording.snapshot);
    return recording.id;
  }

  async stop(meetingId: string, by: string): Promise<void> {
    const running = this.running.get(meetingId);
    if (!running) throw new ProtocolError('NOT_FOUND', 'the meeting is not being recorded');
    this.deps.logger.info({ meetingId, by }, 'stopping the recording');
    // Answered at once: closing the files and making the composite goes on in the background.
    void this.finish(meetingId, running, 'stopped');
  }

  /** The chair's view changed: the composite shows the broadcast venue (or the unit called) over the speaker. */
  controlChanged(meetingId: string, control: MeetingControlState): void {
    const running = this.running.get(meetingId);
    if (!running) return;
    const unitId = control.broadcastUnitId ?? control.rollCall.currentUnitId;
    const member = unitId ? this.deps.roster.get(meetingId)?.memberOfUnit(unitId) : undefined;
    running.recording.setBroadcast(member?.participantId ?? null);
  }

  /** Stops every recording (server shutdown) and waits until their files and composites are finished. */
  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((meetingId) => this.stop(meetingId, 'server shutdown').catch(() => undefined)));
    await Promise.allSettled([...this.finishing]);
  }

  private finish(meetingId: string, running: Running, reason: 'stopped' | 'disk-full'): Promise<void> {
    running.stopping ??= (async () => {
      running.detach();
      if (this.running.get(meetingId) === running) this.running.delete(meetingId);
      // Everyone hears at once; the files and the composite are finished afterwards.
      this.deps.emitToMeeting(meetingId, 'recording', { recording: NOT_RECORDING, reason });
      await running.recording
        .stop(reason === 'disk-full' ? 'disk-full' : 'requested')
        .then((manifest) => this.deps.events?.recordingEnded(manifest))
        .catch((error: unknown) => this.deps.logger.error({ err: error, meetingId }, 'the recording could not be finished'));
    })();
    const stopping = running.stopping;
    this.finishing.add(stopping);
    void stopping.finally(() => this.finishing.delete(stopping));
    return stopping;
  }

  /** Records one producer, piped first to the recording's router if it lives on another. */
  private async record(running: Running, producer: ms.Producer): Promise<void> {
    if (running.stopping || producer.closed || running.recorded.has(producer.id)) return;
    running.recorded.add(producer.id);
    const appData = producer.appData as ProducerAppData;
    const member = this.deps.roster.get(running.meeting.id)?.members.get(appData.participantId);
    try {
      const local = await running.meeting.pipeProducer(producer, running.meeting.router);
      await running.recording.addTrack(local, { participantId: appData.participantId, name: member?.name ?? appData.participantId, source: appData.source });
    } catch (error) {
      if (!producer.closed && !running.stopping) {
        this.deps.logger.warn({ meetingId: running.meeting.id, producerId: producer.id, err: error }, 'could not record a producer');
      }
    }
  }
}
