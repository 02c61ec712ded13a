// SIP over UDP, TCP and TLS (RFC 3261 §18, §26.2): listening sockets, TCP/TLS connections reused in
// both directions and closed when idle, responses routed per Via (RFC 3581 received/rport), and
// input that is not SIP logged and dropped without disturbing anything else.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { SipParseError } from '../sip/errors.js';
import { formatVia, parseVia } from '../sip/headers.js';
import { isSipRequest, SipHeaders, type SipMessage, type SipRequest, type SipResponse } from '../sip/message.js';
import { DEFAULT_SIP_PARSE_LIMITS, parseSipDatagram, SipStreamParser, type SipParseLimits } from '../sip/parse.js';
import { serializeSipMessage } from '../sip/serialize.js';
import type { SipUri } from '../sip/uri.js';

export type SipProtocol = 'udp' | 'tcp' | 'tls';

export interface SipListen {
  protocol: SipProtocol;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 5060 (5061 for TLS); 0 takes a free port. */
  port?: number;
}

/** Our certificate (to listen on TLS) and how the peers' certificates are checked (to connect). */
export interface SipTlsOptions {
  /** PEM; needed to listen on TLS. */
  key?: string | Buffer;
  cert?: string | Buffer;
  /** PEM certificates of the CAs peers' certificates must chain to (default: the system's). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Check the peer's certificate and name when we connect (default true). */
  verifyPeer?: boolean;
}

/** Where a message came from or goes to. */
export interface SipEndpoint {
  protocol: SipProtocol;
  address: string;
  port: number;
}

export interface SipTransportOptions {
  logger: Logger;
  /** A TCP or TLS connection with no traffic for this long is closed (default 120 s). */
  tcpIdleMs?: number;
  limits?: SipParseLimits;
  /** TLS: our certificate and key (listening), the CAs we trust (connecting). */
  tls?: SipTlsOptions;
}

export interface SipTransportEvents {
  message: [message: SipMessage, source: SipEndpoint];
}

/** A UDP datagram above this risks IP fragmentation (RFC 3261 §18.1.1); we log it. */
const MAX_UDP_BYTES = 1300;
const DEFAULT_PORT = 5060;
const DEFAULT_TLS_PORT = 5061;

interface TcpConnection {
  socket: net.Socket | tls.TLSSocket;
  parser: SipStreamParser;
  idle?: NodeJS.Timeout;
  ready: Promise<void>;
}

/** The place to send a request for `uri` (its host, port and transport parameter). */
export function endpointForUri(uri: SipUri, fallback: SipProtocol = 'udp'): SipEndpoint {
  const transport = uri.params['transport']?.toLowerCase();
  const protocol: SipProtocol =
    uri.scheme === 'sips' || transport === 'tls' ? 'tls' : transport === 'tcp' ? 'tcp' : transport === 'udp' ? 'udp' : fallback;
  return { protocol, address: uri.params['maddr'] ?? uri.host, port: uri.port ?? (protocol === 'tls' ? DEFAULT_TLS_PORT : DEFAULT_PORT) };
}

/** TCP and TLS: responses go back on the connection, nothing is retransmitted (RFC 3261 §17.1.1.2). */
export function isReliable(protocol: SipProtocol): boolean {
  return protocol !== 'udp';
}

export function endpointKey({ protocol, address, port }: SipEndpoint): string {
  return `${protocol}:${address}:${port}`;
}

export class SipTransport extends EventEmitter<SipTransportEvents> {
  readonly #logger: Logger;
  readonly #limits: SipParseLimits;
  readonly #tcpIdleMs: number;
  readonly #tls: SipTlsOptions;
  #udp?: dgram.Socket;
  #tcpServer?: net.Server;
  #tlsServer?: tls.Server;
  readonly #connections = new Map<string, TcpConnection>();
  readonly #local = new Map<SipProtocol, { host: string; port: number }>();
  #closed = false;

  private constructor(options: SipTransportOptions) {
    super();
    this.#logger = options.logger;
    this.#limits = options.limits ?? DEFAULT_SIP_PARSE_LIMITS;
    this.#tcpIdleMs = options.tcpIdleMs ?? 120_000;
    this.#tls = options.tls ?? {};
  }

  static async listen(listens: readonly SipListen[], options: SipTransportOptions): Promise<SipTransport> {
    if (listens.length === 0) throw new TypeError('SipTransport.listen: give at least one { protocol, host, port }');
    const transport = new SipTransport(options);
    try {
      for (const listen of listens) {
        const host = listen.host ?? '127.0.0.1';
        if (listen.protocol === 'udp') await transport.#listenUdp(host, listen.port ?? DEFAULT_PORT);
        else if (listen.protocol === 'tcp') await transport.#listenTcp(host, listen.port ?? DEFAULT_PORT);
        else await transport.#listenTls(host, listen.port ?? DEFAULT_TLS_PORT);
      }
    } catch (error) {
      transport.close();
      throw error;
    }
    return transport;
  }

  /** Our host and port for `protocol` (for Via and Contact); the first listener when it has none. */
  local(protocol: SipProtocol): { protocol: SipProtocol; host: string; port: number } {
    const local = this.#local.get(protocol) ?? [...this.#local.values()][0];
    if (!local) throw new Error('SipTransport is closed');
    return { protocol: this.#local.has(protocol) ? protocol : this.defaultProtocol, ...local };
  }

  get defaultProtocol(): SipProtocol {
    return this.#local.has('udp') ? 'udp' : this.#local.has('tcp') ? 'tcp' : 'tls';
  }

  supports(protocol: SipProtocol): boolean {
    return this.#local.has(protocol);
  }

  /** Sends a request to `destination`. Rejects when the destination cannot be reached (TCP connect). */
  async sendRequest(request: SipRequest, destination: SipEndpoint): Promise<void> {
    await this.#send(request, destination);
  }

  /**
   * Sends a response where RFC 3261 §18.2.2 and RFC 3581 say: over the connection the request
   * came on (TCP), else to the top Via's received/rport, else its sent-by.
   */
  async sendResponse(response: SipResponse, source: SipEndpoint): Promise<void> {
    await this.#send(response, responseDestination(response, source));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#udp?.close();
    this.#tcpServer?.close();
    this.#tlsServer?.close();
    for (const connection of this.#connections.values()) {
      clearTimeout(connection.idle);
      connection.socket.destroy();
    }
    this.#connections.clear();
    this.#local.clear();
  }

  async #send(message: SipMessage, destination: SipEndpoint): Promise<void> {
    if (this.#closed) throw new Error('SipTransport is closed');
    const bytes = serializeSipMessage(message);
    this.#logMessage('out', message, destination);
    if (destination.protocol === 'udp') {
      const udp = this.#udp;
      if (!udp) throw new Error(`cannot send over UDP to ${destination.address}:${destination.port}: no UDP listener`);
      if (bytes.length > MAX_UDP_BYTES) {
        this.#logger.warn({ bytes: bytes.length, destination }, 'SIP message over 1300 bytes sent over UDP (may fragment); listen on TCP and use transport=tcp for big messages');
      }
      await new Promise<void>((resolve, reject) => udp.send(bytes, destination.port, destination.address, (error) => (error ? reject(error) : resolve())));
      return;
    }
    const connection = this.#connections.get(endpointKey(destination)) ?? this.#connect(destination);
    await connection.ready;
    this.#touch(endpointKey(destination), connection);
    connection.socket.write(bytes);
  }

  #connect(destination: SipEndpoint): TcpConnection {
    const secure = destination.protocol === 'tls';
    const socket = secure
      ? tls.connect({
          host: destination.address,
          port: destination.port,
          ...(net.isIP(destination.address) ? {} : { servername: destination.address }),
          ...(this.#tls.ca ? { ca: this.#tls.ca } : {}),
          rejectUnauthorized: this.#tls.verifyPeer ?? true,
        })
      : net.connect({ host: destination.address, port: destination.port });
    const connection = this.#adopt(socket, destination);
    connection.ready = new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    connection.ready.catch(() => {});
    return connection;
  }

  async #listenUdp(host: string, port: number): Promise<void> {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', (datagram, info) => this.#onDatagram(datagram, { protocol: 'udp', address: info.address, port: info.port }));
    socket.on('error', (error) => this.#logger.error({ err: error }, 'SIP UDP socket error; check that the port is free and the address is ours'));
    await bound(socket, (done) => socket.bind(port, host, done));
    this.#udp = socket;
    this.#local.set('udp', { host, port: socket.address().port });
    this.#logger.info({ protocol: 'udp', host, port: socket.address().port }, 'SIP listening');
  }

  async #listenTcp(host: string, port: number): Promise<void> {
    const server = net.createServer((socket) => {
      const remote: SipEndpoint = { protocol: 'tcp', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      const connection = this.#adopt(socket, remote);
      connection.ready = Promise.resolve();
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'SIP TCP server error'));
    await bound(server, (done) => server.listen(port, host, done));
    this.#tcpServer = server;
    const address = server.address() as net.AddressInfo;
    this.#local.set('tcp', { host, port: address.port });
    this.#logger.info({ protocol: 'tcp', host, port: address.port }, 'SIP listening');
  }

  async #listenTls(host: string, port: number): Promise<void> {
    const { key, cert } = this.#tls;
    if (!key || !cert) throw new Error('SIP over TLS needs a certificate and its key (SipTransportOptions.tls.cert and .key)');
    const server = tls.createServer({ key, cert }, (socket) => {
      const remote: SipEndpoint = { protocol: 'tls', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      const connection = this.#adopt(socket, remote);
      connection.ready = Promise.resolve();
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'SIP TLS server error'));
    server.on('tlsClientError', (error) => this.#logger.warn({ err: error.message }, 'a SIP TLS handshake failed'));
    await bound(server, (done) => server.listen(port, host, done));
    this.#tlsServer = server;
    const address = server.address() as net.AddressInfo;
    this.#local.set('tls', { host, port: address.port });
    this.#logger.info({ protocol: 'tls', host, port: address.port }, 'SIP listening');
  }

  #adopt(socket: net.Socket | tls.TLSSocket, remote: SipEndpoint): TcpConnection {
    const key = endpointKey(remote);
    const parser = new SipStreamParser(this.#limits);
    const connection: TcpConnection = { socket, parser, ready: Promise.resolve() };
    this.#connections.set(key, connection);
    this.#touch(key, connection);
    parser.on('message', (message) => this.#receive(message, remote));
    parser.on('ping', () => socket.write('\r\n'));
    socket.on('data', (chunk) => {
      this.#touch(key, connection);
      try {
        parser.feed(chunk);
      } catch (error) {
        if (!(error instanceof SipParseError)) throw error;
        this.#logger.warn({ remote, err: error.message }, 'bad SIP on a TCP connection; closing it (the peer must reconnect)');
        socket.destroy();
      }
    });
    socket.on('error', (error) => this.#logger.debug({ remote, err: error.message }, 'SIP TCP connection error'));
    socket.on('close', () => {
      clearTimeout(connection.idle);
      if (this.#connections.get(key) === connection) this.#connections.delete(key);
    });
    return connection;
  }

  #touch(key: string, connection: TcpConnection): void {
    clearTimeout(connection.idle);
    connection.idle = setTimeout(() => {
      this.#logger.debug({ connection: key }, 'closing idle SIP TCP connection');
      connection.socket.end();
      connection.socket.destroy();
    }, this.#tcpIdleMs);
    connection.idle.unref();
  }

  #onDatagram(datagram: Buffer, source: SipEndpoint): void {
    let message: SipMessage;
    try {
      message = parseSipDatagram(datagram, this.#limits);
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      if (/^[\r\n]*$/.test(datagram.toString('latin1'))) return;
      this.#logger.warn({ source, bytes: datagram.length, err: error.message }, 'dropped a UDP datagram that is not valid SIP');
      this.#answerBadRequest(datagram, source, error.message);
      return;
    }
    this.#receive(message, source);
  }

  #receive(message: SipMessage, source: SipEndpoint): void {
    if (isSipRequest(message)) markReceived(message, source);
    this.#logMessage('in', message, source);
    try {
      this.emit('message', message, source);
    } catch (error) {
      this.#logger.error({ err: error, callId: message.headers.get('Call-ID') }, 'SIP message handler failed; the message was dropped');
    }
  }

  /** A request too broken to parse but with the headers a response needs gets 400 (RFC 3261 §8.2). */
  #answerBadRequest(datagram: Buffer, source: SipEndpoint, why: string): void {
    const response = badRequestFor(datagram.toString('utf8'), why);
    if (!response) return;
    this.#send(response, source).catch((error: unknown) => this.#logger.debug({ err: error }, 'could not send 400'));
  }

  #logMessage(direction: 'in' | 'out', message: SipMessage, remote: SipEndpoint): void {
    if (!this.#logger.isLevelEnabled('debug')) return;
    const line = isSipRequest(message) ? `${message.method} ${message.rawUri}` : `${message.status} ${message.reason}`;
    this.#logger.debug({ direction, remote, callId: message.headers.get('Call-ID'), cseq: message.headers.get('CSeq') }, line);
  }
}

/** Resolves when `start` calls back, rejects on an 'error' before that (a port in use). */
function bound(target: EventEmitter, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    target.once('error', reject);
    start(() => {
      target.off('error', reject);
      resolve();
    });
  });
}

/** RFC 3581 / RFC 3261 §18.2.1: received= when the source address differs, rport= when asked for. */
function markReceived(request: SipRequest, source: SipEndpoint): void {
  const [top, ...rest] = request.headers.getAll('Via');
  if (top === undefined) return;
  const via = parseVia(top);
  if (via.host === source.address && via.rport !== true) return;
  via.received = source.address;
  if (via.rport !== undefined) via.rport = source.port;
  request.headers.set('Via', [formatVia(via), ...rest].join(', '));
}

function responseDestination(response: SipResponse, source: SipEndpoint): SipEndpoint {
  if (isReliable(source.protocol)) return source;
  const top = response.headers.get('Via');
  if (top === undefined) return source;
  const via = parseVia(top);
  const address = via.params['maddr'] ?? via.received ?? via.host;
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? DEFAULT_PORT);
  return { protocol: 'udp', address, port };
}

const RESPONSE_HEADERS = ['via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq'];

function badRequestFor(text: string, why: string): SipResponse | undefined {
  const lines = text.split(/\r?\n/);
  const request = /^([A-Za-z]+) \S+ SIP\/2\.0$/.exec(lines[0] ?? '');
  if (!request || request[1]?.toUpperCase() === 'ACK') return undefined;
  const found = new Map<string, string>();
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = line.slice(0, Math.max(colon, 0)).trim().toLowerCase();
    if (colon <= 0 || !RESPONSE_HEADERS.includes(name) || /[\0-\x08\x0a-\x1f\x7f]/.test(line)) continue;
    const canonical = { v: 'via', f: 'from', t: 'to', i: 'call-id' }[name] ?? name;
    found.set(canonical, line.slice(colon + 1).trim());
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  if (!['via', 'from', 'to', 'call-id', 'cseq'].every((name) => found.has(name))) return undefined;
  try {
    parseVia(found.get('via') ?? '');
    const reason = `Bad Request (${why.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)})`;
    return { status: 400, reason, version: 'SIP/2.0', headers: new SipHeaders(headers), body: Buffer.alloc(0) };
  } catch {
    return undefined;
  }
}
