import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';

/** Where bridges let ffmpeg listen unless told: below the ranges mediasoup workers use. */
export const DEFAULT_BRIDGE_PORTS = { min: 20000, max: 29999 };

/** First ports of pairs handed out and not released yet, so two jobs never pick the same pair. */
const reserved = new Set<number>();

/**
 * An even port P with P and P + 1 free on 127.0.0.1 (RTP and RTCP for ffmpeg), reserved until
 * releasePortPair(P). Checked by binding then closing: another program may still take it before
 * ffmpeg binds, which makes that ffmpeg run fail and the job restart it.
 */
export async function reservePortPair(range = DEFAULT_BRIDGE_PORTS): Promise<number> {
  const pairs = Math.floor((range.max - range.min) / 2);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = range.min + 2 * Math.floor(Math.random() * pairs);
    if (reserved.has(port)) continue;
    reserved.add(port);
    if ((await canBind(port)) && (await canBind(port + 1))) return port;
    reserved.delete(port);
  }
  throw new Error(`no free UDP port pair in ${range.min}–${range.max}`);
}

export function releasePortPair(port: number): void {
  reserved.delete(port);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * Whether every one of `ports` has a UDP socket bound to it on this host (Linux /proc/net). Used
 * to learn that ffmpeg listens, without binding the ports ourselves and racing it.
 */
export async function udpPortsBound(ports: number[]): Promise<boolean> {
  const tables = await Promise.all(['/proc/net/udp', '/proc/net/udp6'].map((path) => readFile(path, 'utf8').catch(() => '')));
  const bound = new Set<number>();
  for (const line of tables.join('\n').split('\n')) {
    const local = line.trim().split(/\s+/)[1]; // "0100007F:4E20"
    const port = local?.split(':')[1];
    if (port && /^[0-9A-F]{4}$/i.test(port)) bound.add(parseInt(port, 16));
  }
  return ports.every((port) => bound.has(port));
}
