// Test-side protocol client: a real socket.io-client speaking to a real server.
import { io, type Socket } from 'socket.io-client';
import { BATCHED_EVENTS, type Ack, type BatchedEvent, type RequestName, type RequestReplies, type ServerEventName, type ServerEvents } from '../src/protocol.js';

export type TestClient = Socket;

export async function connect(url: string): Promise<TestClient> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Sends any event name and payload (valid or not) and returns the raw ack. */
export function send(socket: TestClient, name: string, payload?: unknown): Promise<Ack<unknown>> {
  return socket.timeout(10_000).emitWithAck(name, payload);
}

export function request<N extends RequestName>(socket: TestClient, name: N, payload: unknown): Promise<Ack<RequestReplies[N]>> {
  return send(socket, name, payload) as Promise<Ack<RequestReplies[N]>>;
}

/** Sends a request that must succeed and returns its data. */
export async function ok<N extends RequestName>(socket: TestClient, name: N, payload: unknown): Promise<RequestReplies[N]> {
  const reply = await request(socket, name, payload);
  if (!reply.ok) throw new Error(`${name} failed: ${reply.error.code} ${reply.error.message}`);
  return reply.data;
}

const isBatched = (event: ServerEventName): boolean => (BATCHED_EVENTS as readonly string[]).includes(event);

/**
 * Calls `handler` for each `event`, whether it arrives on its own or (roster and producer changes)
 * inside a rosterBatch. Returns the function that stops listening.
 */
export function onEvent<E extends ServerEventName>(socket: TestClient, event: E, handler: (payload: ServerEvents[E]) => void): () => void {
  if (!isBatched(event)) {
    const listener = handler as (payload: unknown) => void;
    socket.on(event as string, listener);
    return () => socket.off(event as string, listener);
  }
  const listener = ({ events }: { events: BatchedEvent[] }): void => {
    for (const item of events) if (item.name === event) handler(item.payload as ServerEvents[E]);
  };
  socket.on('rosterBatch', listener);
  return () => socket.off('rosterBatch', listener);
}

export function nextEvent<E extends ServerEventName>(socket: TestClient, event: E, timeoutMs = 5000): Promise<ServerEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = onEvent(socket, event, (payload) => {
      clearTimeout(timer);
      stop();
      resolve(payload);
    });
  });
}
