import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { RtmpConnection, type RtmpAuthorize } from './RtmpConnection.js';
import type { RtmpPublisher } from './RtmpPublisher.js';

export interface RtmpServerOptions {
  /** 1935 is RTMP's; 0 picks a free port (read it from `port`). */
  port: number;
  /** Default 0.0.0.0: drone controllers publish from off this host. */
  host?: string;
  logger: Logger;
  /** Decides each publish by app and stream key: null accepts, a string refuses with that reason. */
  authorize: RtmpAuthorize;
  /** The application name in rtmp://host/<app>/<stream key> (default 'live'); any other is refused. */
  app?: string;
  /** A publisher whose media stops for this long, or a client that connects and never publishes, is dropped (ms, default 10 s). */
  idleTimeoutMs?: number;
  /** A client that has not finished the handshake by then is dropped (ms, default 10 s). */
  handshakeTimeoutMs?: number;
  /** Connections at once (default 64); more are closed as they come. */
  maxConnections?: number;
}

export interface RtmpServerEvents {
  /** A publish was authorized: the publisher's media flows from now on, from the first byte in its `flv`. */
  publish: [publisher: RtmpPublisher];
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONNECTIONS = 64;

/**
 * An RTMP server that only receives: drone controllers (DJI Pilot 2), OBS and ffmpeg publish to
 * rtmp://host:port/live/<stream key>, `authorize` decides each stream key, and each accepted publish
 * is an RtmpPublisher. The server owns its connections: close() ends them all.
 */
export class RtmpServer extends EventEmitter<RtmpServerEvents> {
  private readonly connections = new Set<RtmpConnection>();
  private closing?: Promise<void>;

  private constructor(
    private readonly server: Server,
    private readonly options: RtmpServerOptions,
    private readonly logger: Logger,
  ) {
    super();
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Resolves once the port is bound; rejects if it cannot be (e.g. EADDRINUSE). */
  static async listen(options: RtmpServerOptions): Promise<RtmpServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const rtmp = new RtmpServer(server, options, options.logger.child({ rtmpPort: (server.address() as { port: number }).port }));
    server.on('error', (error) => rtmp.logger.error({ err: error }, 'rtmp server error'));
    rtmp.logger.info('rtmp server listening');
    return rtmp;
  }

  /** The bound port (the one picked, when listen() was given 0). */
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Stops listening and closes every connection (publishers close with 'closed by server'); resolves when all are closed. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections) connection.close('closed by server');
    }).then(() => this.logger.info('rtmp server closed'));
    return this.closing;
  }

  private accept(socket: Socket): void {
    const maxConnections = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.closing || this.connections.size >= maxConnections) {
      this.logger.warn({ remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`, maxConnections }, 'rtmp connection refused: too many connections');
      socket.destroy();
      return;
    }
    const connection: RtmpConnection = new RtmpConnection(
      socket,
      {
        app: this.options.app ?? 'live',
        authorize: this.options.authorize,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULT_TIMEOUT_MS,
        idleTimeoutMs: this.options.idleTimeoutMs ?? DEFAULT_TIMEOUT_MS,
        logger: this.logger,
        onPublish: (publisher) => this.emit('publish', publisher),
      },
      () => this.connections.delete(connection),
    );
    this.connections.add(connection);
  }
}
