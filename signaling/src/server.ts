import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RecordingLibrary } from '@cityconf/recordings';
import { Sfu } from '@cityconf/sfu';
import { Server as SocketServer } from 'socket.io';
import { createApiHandler } from './api/apiHandler.js';
import { createRecordingFileHandler, isRecordingFilePath } from './api/recordingFiles.js';
import { DEV_AUTH, DEV_OPERATOR_API_KEY, loadConfig, type ServerConfig } from './config.js';
import { dispatch } from './dispatch.js';
import { FeedManager } from './feeds/FeedManager.js';
import { startRtmpIngest } from './feeds/rtmpIngest.js';
import { createWhipHandler } from './feeds/whipEndpoint.js';
import { createHttpHandler } from './http.js';
import { createLogger, type Logger } from './log.js';
import { MAX_REQUEST_BYTES, type ServerEvents } from './protocol.js';
import { Roster } from './Roster.js';
import { chairChannel, meetingChannel, Session } from './Session.js';
import { MeetingRecorder } from './recording/MeetingRecorder.js';
import { SipGateway } from './sip/SipGateway.js';
import { SipLegBroadcast } from './sip/SipLegBroadcast.js';
import { openSqliteStore } from './store/sqlite/SqliteStore.js';
import type { Store } from './store/types.js';
import { feedWebhooks } from './webhooks/feedWebhooks.js';
import { meetingWebhooks } from './webhooks/meetingWebhooks.js';
import { recordingWebhooks } from './webhooks/recordingWebhooks.js';
import { WebhookNotifier } from './webhooks/WebhookNotifier.js';

export interface RunningServer {
  /** Base URL, e.g. http://localhost:3000. */
  url: string;
  config: ServerConfig;
  sfu: Sfu;
  roster: Roster;
  /** Units, accounts, meetings, attendance, chat: SQLite in DATA_DIR. */
  store: Store;
  logger: Logger;
  /** The socket.io server (tests disconnect clients with it, as a network or the server would). */
  io: SocketServer;
  feeds: FeedManager;
  recorder: MeetingRecorder;
  recordings: RecordingLibrary;
  /** The SIP gateway (absent with SIP_PORT=-1). */
  sip: SipGateway | undefined;
  close(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge<T>(base: T, overrides: DeepPartial<T> | undefined): T {
  if (!overrides) return base;
  const result = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const current = result[key];
    result[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? merge(current, value as DeepPartial<typeof current>)
        : value;
  }
  return result as T;
}

/** Starts the single-node server: worker pool, socket.io signaling and HTTP, all in this process. */
export async function startServer(overrides?: DeepPartial<ServerConfig>): Promise<RunningServer> {
  const config = merge(loadConfig(), overrides);
  const logger = createLogger(config.logLevel);
  if (config.auth.apiSecret === DEV_AUTH.apiSecret) {
    logger.warn('using the development API secret: set LIVEKIT_API_KEY and LIVEKIT_API_SECRET in production');
  }
  if (config.operatorApiKey === DEV_OPERATOR_API_KEY) {
    logger.warn('using the development operator API key: set OPERATOR_API_KEY in production');
  }
  mkdirSync(config.dataDir, { recursive: true });
  const recordingsDir = config.recordings.dir ?? join(config.dataDir, 'recordings');

  warnOnSmallUdpBuffers(config, logger);
  const store = openSqliteStore(join(config.dataDir, 'cityconf.db'));
  const closed = store.attendance.closeOpenPresences(Date.now());
  if (closed > 0) logger.warn({ presences: closed }, 'closed attendance left open by an unclean shutdown');

  const webhooks = new WebhookNotifier({ urls: config.webhookUrls, auth: config.auth }, store.webhookDeliveries, logger);

  const sfu = await Sfu.create(config.sfu, logger);
  let io: SocketServer | undefined;
  let recorder: MeetingRecorder | undefined;
  let sip: SipGateway | undefined;
  const roster = new Roster({
    store,
    logger,
    events: meetingWebhooks(webhooks),
    emitToMeeting: (meetingId, event, payload) => {
      io?.to(meetingChannel(meetingId)).emit(event, payload);
      if (event === 'controlChanged') {
        const { control } = payload as ServerEvents['controlChanged'];
        recorder?.controlChanged(meetingId, control);
        sip?.controlChanged(meetingId, control);
      }
    },
  });
  const library = new RecordingLibrary({ root: recordingsDir, logger: logger.child({ component: 'recordings' }) });
  recorder = new MeetingRecorder({
    sfu,
    roster,
    store,
    library,
    root: recordingsDir,
    listenIp: config.sfu.listenIps[0]!,
    logger: logger.child({ component: 'recordings' }),
    minFreeBytes: config.recordings.minFreeMb * 1024 * 1024,
    emitToMeeting: (meetingId, event, payload) => io?.to(meetingChannel(meetingId)).emit(event, payload),
    events: recordingWebhooks(webhooks, library),
  });
  const recordingUpkeep = startRecordingUpkeep(library, config.recordings.retentionDays, logger);
  const feeds = new FeedManager({
    store,
    sfu,
    roster,
    logger: logger.child({ component: 'feeds' }),
    listenIp: config.sfu.listenIps[0]!,
    emitToMeeting: (meetingId, event, payload) => io?.to(meetingChannel(meetingId)).emit(event, payload),
    events: feedWebhooks(webhooks),
  });
  feeds.start();
  const rtmp =
    config.rtmpPort >= 0
      ? await startRtmpIngest(feeds, { port: config.rtmpPort, host: config.host, logger: logger.child({ component: 'rtmp' }) })
      : undefined;
  sip =
    config.sip.port >= 0
      ? await SipGateway.start(
          {
            host: config.sip.host,
            port: config.sip.port,
            protocols: config.sip.protocols,
            mediaAddress: config.sip.mediaAddress ?? undefined,
            registrar: config.sip.registrar ?? undefined,
            tls: config.sip.tls,
          },
          { store, sfu, roster, listenIp: config.sfu.listenIps[0]!, logger: logger.child({ component: 'sip' }) },
        )
      : undefined;
  const sipLegBroadcast = sip && new SipLegBroadcast(sip, (meetingId, payload) => io?.to(chairChannel(meetingId)).emit('sipLegs', payload));
  const health = () => {
    const stats = sfu.stats();
    return {
      status: stats.workersAlive === stats.workersConfigured ? 'ok' : 'degraded',
      workers: { configured: stats.workersConfigured, alive: stats.workersAlive, pool: stats.workers },
      meetings: roster.meetingCount,
      participants: roster.participantCount,
      /** Pipe transports between workers (a meeting spanning routers pipes producers on demand). */
      pipes: stats.pipes,
      /** meetingId → the routers it spans: worker pid, router id, participants on it. */
      placement: stats.placement,
      /** SIP: where it listens, the legs up now, the registration with the platform's registrar. */
      sip: sip
        ? {
            listen: Object.fromEntries([...config.sip.protocols, ...(config.sip.tls.port >= 0 ? ['tls' as const] : [])].map((protocol) => [protocol, sip!.local(protocol)])),
            legs: sip.legCount,
            registration: sip.registrationState,
          }
        : null,
    };
  };

  const api = createApiHandler({
    store,
    auth: config.auth,
    operatorApiKey: config.operatorApiKey,
    live: roster,
    logger,
    lateGraceMs: config.lateGraceMinutes * 60_000,
    feeds,
    rtmpPort: rtmp?.port ?? 0,
    recordings: { library, recorder },
    sipLegs: sip,
  });
  const recordingFiles = createRecordingFileHandler({
    store,
    auth: config.auth,
    operatorApiKey: config.operatorApiKey,
    live: roster,
    logger,
    recordings: { library, recorder },
  });
  const whip = createWhipHandler({
    feeds,
    listenIps: config.sfu.listenIps,
    logger: logger.child({ component: 'whip' }),
    initialAvailableOutgoingBitrate: config.sfu.initialAvailableOutgoingBitrate,
    maxIncomingBitrate: config.sfu.maxIncomingBitrate,
  });
  const httpServer: HttpServer = createServer(createHttpHandler({
      webClientDir: config.webClientDir,
      health,
      api,
      whip,
      recordingFiles: { matches: isRecordingFilePath, handle: recordingFiles },
    }));
  // Frames above maxHttpBufferSize drop the connection; requests between MAX_REQUEST_BYTES and it
  // get a PAYLOAD_TOO_LARGE answer instead.
  io = new SocketServer(httpServer, { maxHttpBufferSize: 4 * MAX_REQUEST_BYTES, serveClient: false });

  sfu.on('meeting', (meeting) => {
    if (store.meetings.get(meeting.id)?.settings.autoRecord) {
      recorder.start(meeting.id, 'auto-record').catch((error: unknown) => logger.error({ err: error, meetingId: meeting.id }, 'auto-record could not start'));
    }
    meeting.on('activespeaker', (participantId) => {
      io.to(meetingChannel(meeting.id)).emit('activeSpeaker', { participantId });
    });
    meeting.on('audiblechange', (participantIds) => {
      io.to(meetingChannel(meeting.id)).emit('audibleSpeakers', { participantIds });
    });
  });

  io.on('connection', (socket) => {
    const session = new Session(socket, {
      sfu,
      roster,
      auth: config.auth,
      logger,
      store,
      audioLastN: config.audioLastN,
      feeds,
      recordings: recorder,
      sipLegs: sip,
    });
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== 'function') {
        session.logger.debug({ event }, 'ignored a message without acknowledgement callback');
        return;
      }
      const payload = args.length > 1 ? args[0] : undefined;
      void dispatch(session, event, payload, session.logger).then((reply) => ack(reply));
    });
    socket.on('disconnect', (reason) => {
      session.logger.debug({ reason }, 'socket disconnected');
      session.leave();
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  logger.info({ url, workers: config.sfu.numWorkers, dataDir: config.dataDir, rtmpPort: rtmp?.port }, 'server listening');

  return {
    url,
    config: { ...config, port, rtmpPort: rtmp?.port ?? -1 },
    sfu,
    roster,
    store,
    logger,
    io,
    feeds,
    recorder,
    recordings: library,
    sip,
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      clearInterval(recordingUpkeep);
      sipLegBroadcast?.close();
      await sip?.close();
      await recorder.close();
      await rtmp?.close();
      await feeds.close();
      sfu.close();
      await webhooks.close();
      store.close();
      logger.info('server stopped');
    },
  };
}

/** How often finished recordings older than the retention are deleted (ms). */
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Recordings a crash left unfinished are recovered (files repaired, composite made) in the
 * background at start; expired recordings are deleted then and every hour.
 */
function startRecordingUpkeep(library: RecordingLibrary, retentionDays: number, logger: Logger): NodeJS.Timeout {
  const expire = (): void => {
    if (retentionDays <= 0) return;
    library
      .applyRetention(retentionDays)
      .then((deleted) => deleted.length > 0 && logger.info({ deleted, retentionDays }, 'expired recordings deleted'))
      .catch((error: unknown) => logger.error({ err: error }, 'recording retention failed'));
  };
  library
    .recover()
    .then((recovered) => {
      if (recovered.length > 0) logger.warn({ recordings: recovered.map((manifest) => manifest.recordingId) }, 'recovered recordings a crash interrupted');
      expire();
    })
    .catch((error: unknown) => logger.error({ err: error }, 'recovering interrupted recordings failed'));
  const timer = setInterval(expire, RETENTION_INTERVAL_MS);
  timer.unref();
  return timer;
}

/** UDP buffer (bytes) the patched worker asks for; the kernel grants up to rmem_max / wmem_max. */
const PIPE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Every stream one worker pipes to another crosses one UDP socket; at hundreds of streams, bursts
 * overflow a small buffer (measured in BENCHMARKS.md). The worker asks for 4 MiB per socket; warn,
 * with the fix, when a multi-worker node's kernel would cap that lower.
 */
function warnOnSmallUdpBuffers(config: ServerConfig, logger: Logger): void {
  if (config.sfu.numWorkers < 2) return;
  try {
    const limit = (name: string): number => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
    const rmemMax = limit('rmem_max');
    const wmemMax = limit('wmem_max');
    if (rmemMax >= PIPE_BUFFER_BYTES && wmemMax >= PIPE_BUFFER_BYTES) return;
    logger.warn(
      { rmemMax, wmemMax },
      `UDP buffers are capped low for streams piped between workers: run "sysctl -w net.core.rmem_max=${PIPE_BUFFER_BYTES} net.core.wmem_max=${PIPE_BUFFER_BYTES}" on media hosts`,
    );
  } catch {
    // not Linux: nothing to check
  }
}
