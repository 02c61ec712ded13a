import type { types as ms } from 'mediasoup';
import { MEDIA_CODECS } from './codecs.js';
import type { HeardLevel } from './lastN.js';
import type { ProducerAppData } from './Participant.js';
import type { WorkerPool } from './WorkerPool.js';

/** How often each router's audio level observer reports (ms). */
export const AUDIO_LEVEL_INTERVAL_MS = 300;
/**
 * Quieter than this (dBov, averaged over a report) is not speech. Room noise of an open
 * microphone sits around -60 to -70 dBov; speech around -20 to -40.
 */
export const SPEECH_THRESHOLD_DBOV = -55;

/**
 * A meeting's router on one worker and the audio level observer over the microphones produced
 * on it. `heard` holds the observer's latest report, so a meeting can merge its routers' reports
 * whenever any of them changes.
 */
export class MeetingRouter {
  /** Who the observer heard in its latest report, loudest first; empty after silence. */
  heard: HeardLevel[] = [];

  private constructor(
    readonly worker: ms.Worker,
    readonly router: ms.Router,
    private readonly levels: ms.AudioLevelObserver,
    onHeard: () => void,
  ) {
    levels.on('volumes', (volumes: ms.AudioLevelObserverVolume[]) => {
      this.heard = volumes.map(({ producer, volume }) => ({ participantId: (producer.appData as ProducerAppData).participantId, volume }));
      onHeard();
    });
    levels.on('silence', () => {
      this.heard = [];
      onHeard();
    });
  }

  /**
   * A router on `worker` whose observer reports up to `maxHeard` producers per window (all of the
   * meeting's audible set may be on one router). `onHeard` is called after every report.
   */
  static async create(pool: WorkerPool, worker: ms.Worker, maxHeard: number, onHeard: () => void): Promise<MeetingRouter> {
    const router = await pool.createRouter(MEDIA_CODECS, worker);
    try {
      const levels = await router.createAudioLevelObserver({
        maxEntries: maxHeard,
        threshold: SPEECH_THRESHOLD_DBOV,
        interval: AUDIO_LEVEL_INTERVAL_MS,
      });
      return new MeetingRouter(worker, router, levels, onHeard);
    } catch (error) {
      router.close();
      throw error;
    }
  }

  /** Adds a microphone produced on this router to its observer. */
  async observe(producer: ms.Producer): Promise<void> {
    await this.levels.addProducer({ producerId: producer.id });
  }

  close(): void {
    this.router.close();
  }
}
