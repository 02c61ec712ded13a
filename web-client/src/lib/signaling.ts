// Typed request/response over socket.io: every request is acknowledged with Ack<T>; a failed or
// unanswered request rejects with a SignalingError whose code a caller can switch on.
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ErrorCode,
  RequestName,
  RequestPayload,
  RequestReplies,
  ServerEventName,
  ServerEvents,
} from '@cityconf/signaling/protocol';

/** Server error codes plus the ones that only the client can observe. */
export type ClientErrorCode =
  | ErrorCode
  | 'TIMEOUT' // no reply within the request timeout
  | 'CONNECTION_FAILED' // the socket could not connect to the server
  | 'DISCONNECTED'; // the socket closed while the request was in flight

export class SignalingError extends Error {
  override readonly name = 'SignalingError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SignalingOptions {
  /** Server origin; same origin when omitted. */
  url?: string;
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * One socket.io connection. It does not reconnect by itself: a lost connection ends the
 * server-side session, so the owner (MeetingSession) decides when to join again on a new client.
 */
export class SignalingClient {
  private readonly socket: Socket;
  private readonly requestTimeoutMs: number;
  /** Rejecters of requests still waiting for their ack. */
  private readonly inFlight = new Set<(error: SignalingError) => void>();
  private readonly disconnectHandlers = new Set<(reason: string) => void>();
  private closed = false;
  /** Set when the initial connection attempt failed; the socket does not retry. */
  private connectFailure: SignalingError | null = null;

  constructor(options: SignalingOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const socketOptions = { path: '/socket.io', transports: ['websocket'], reconnection: false };
    this.socket = options.url ? io(options.url, socketOptions) : io(socketOptions);
    this.socket.on('connect_error', (error) => {
      this.connectFailure = new SignalingError('CONNECTION_FAILED', `cannot reach the server: ${error.message}`);
    });
    this.socket.on('disconnect', (reason) => {
      this.failInFlight(new SignalingError('DISCONNECTED', `connection closed (${reason})`));
      if (this.closed) return;
      this.closed = true;
      for (const handler of this.disconnectHandlers) handler(reason);
    });
  }

  /** Called once when the server or the network closes the connection (not after close()). */
  onDisconnect(handler: (reason: string) => void): () => void {
    this.disconnectHandlers.add(handler);
    return () => this.disconnectHandlers.delete(handler);
  }

  on<E extends ServerEventName>(event: E, handler: (payload: ServerEvents[E]) => void): () => void {
    const listener = handler as (...args: unknown[]) => void;
    this.socket.on(event as string, listener);
    return () => this.socket.off(event as string, listener);
  }

  async request<N extends RequestName>(
    name: N,
    payload: RequestPayload<N>,
    options: { timeoutMs?: number } = {},
  ): Promise<RequestReplies[N]> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    await this.connected(timeoutMs);
    return new Promise((resolve, reject) => {
      const fail = (error: SignalingError): void => {
        clearTimeout(timer);
        this.inFlight.delete(fail);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new SignalingError('TIMEOUT', `${name}: no reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.inFlight.add(fail);
      this.socket.emit(name, payload, (reply: Ack<RequestReplies[N]> | undefined) => {
        if (!this.inFlight.has(fail)) return;
        clearTimeout(timer);
        this.inFlight.delete(fail);
        if (reply?.ok === true) resolve(reply.data);
        else if (reply?.ok === false) reject(new SignalingError(reply.error.code, reply.error.message));
        else reject(new SignalingError('INTERNAL', `${name}: malformed reply`));
      });
    });
  }

  /** Sends a request without waiting for its reply (used when the page is going away). */
  notify<N extends RequestName>(name: N, payload: RequestPayload<N>): void {
    if (this.socket.connected) this.socket.emit(name, payload, () => undefined);
  }

  close(): void {
    this.closed = true;
    this.socket.disconnect();
    this.failInFlight(new SignalingError('DISCONNECTED', 'connection closed by the client'));
  }

  private connected(timeoutMs: number): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    if (this.closed) return Promise.reject(new SignalingError('DISCONNECTED', 'connection already closed'));
    if (this.connectFailure) return Promise.reject(this.connectFailure);
    return new Promise((resolve, reject) => {
      const settle = (error?: SignalingError): void => {
        clearTimeout(timer);
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
        this.inFlight.delete(settle);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = (): void => settle();
      const onError = (): void => settle(this.connectFailure ?? undefined);
      const timer = setTimeout(
        () => settle(new SignalingError('CONNECTION_FAILED', `no connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.inFlight.add(settle);
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
    });
  }

  private failInFlight(error: SignalingError): void {
    for (const fail of [...this.inFlight]) fail(error);
  }
}
