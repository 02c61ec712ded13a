// Test-side protocol client: a real socket.io-client speaking to a real server.
import { io, type Socket } from 'socket.io-client';
import type { Ack, RequestName, RequestReplies, ServerEventName, ServerEvents } from '../src/protocol.js';

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

export function nextEvent<E extends ServerEventName>(socket: TestClient, event: E, timeoutMs = 5000): Promise<ServerEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event as string, (payload: ServerEvents[E]) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}
