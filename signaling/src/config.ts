import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SfuConfig } from '@cityconf/sfu';
import { parseWebhookUrls } from './webhooks/WebhookNotifier.js';

export interface AuthConfig {
  /** LiveKit-style API key: the JWT's `iss`. */
  apiKey: string;
  /** HMAC secret the tokens are signed with. */
  apiSecret: string;
}

export interface ServerConfig {
  host: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  /** Every persistent file lives here. */
  dataDir: string;
  /** The built web client (vite build output). */
  webClientDir: string;
  logLevel: string;
  auth: AuthConfig;
  /** Bearer key of the admin API (operators' scripts); operator accounts can log in instead. */
  operatorApiKey: string;
  /** LiveKit-format webhooks are POSTed to each of these. */
  webhookUrls: string[];
  /** A unit joining later than this after the start is marked late (迟到) in attendance. */
  lateGraceMinutes: number;
  /** Audio last-N: how many recent speakers every receiver hears (plus the main venue and floor holders). */
  audioLastN: number;
  /** Where drones push RTMP (rtmp://host:<port>/live/<streamKey>); 0 picks a free port, -1 turns RTMP off. */
  rtmpPort: number;
  sip: {
    /** SIP (UDP and TCP) for room terminals and MCUs; 0 picks a free port, -1 turns SIP off. */
    port: number;
    host: string;
    protocols: ('udp' | 'tcp')[];
    /** The address SIP peers send media to (c= in our SDP); default: host. */
    mediaAddress: string | null;
    /** REGISTER with this registrar (the provincial SIP platform), so calls to our address reach us. */
    registrar: SipRegistrarConfig | null;
    /** SIP over TLS: listening (with our certificate) and calling sips: / transport=tls peers. */
    tls: SipTlsConfig;
  };
  recordings: {
    /** Recording files and their manifests; null: `DATA_DIR/recordings`. */
    dir: string | null;
    /** Finished recordings older than this many days are deleted (0 keeps them). */
    retentionDays: number;
    /** A recording stops (and none starts) when the disk has less free space than this (MiB). */
    minFreeMb: number;
  };
  sfu: SfuConfig;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Development operator key of the admin API (`Authorization: Bearer …`); the server warns when it runs with it. */
export const DEV_OPERATOR_API_KEY = 'cityconf-dev-operator-key';

/** Development credentials; the server warns when it runs with them. */
export const DEV_AUTH: AuthConfig = {
  apiKey: 'devkey',
  apiSecret: 'cityconf-development-secret-change-me',
};

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw} is invalid: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new Error(`${name}=${raw} is invalid: expected one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

export interface SipRegistrarConfig {
  /** e.g. `sip:10.1.1.1:5060` or `sip:registrar.gov.example;transport=tcp`. */
  uri: string;
  username: string;
  password: string;
  /** Requested binding lifetime (s). */
  expires: number;
}

function sipRegistrar(env: Env): SipRegistrarConfig | null {
  const uri = env.SIP_REGISTRAR?.trim();
  if (!uri) return null;
  if (!/^sips?:/i.test(uri)) throw new Error(`SIP_REGISTRAR=${uri} is invalid: expected a SIP URI such as sip:10.1.1.1:5060`);
  if (!env.SIP_USERNAME || env.SIP_PASSWORD === undefined) {
    throw new Error('SIP_REGISTRAR needs SIP_USERNAME and SIP_PASSWORD (the account the registrar issued)');
  }
  return { uri, username: env.SIP_USERNAME, password: env.SIP_PASSWORD, expires: integer(env, 'SIP_REGISTER_EXPIRES', 3600, 60, 86_400) };
}

export interface SipTlsConfig {
  /** Where TLS listens on SIP_HOST; -1 when we have no certificate (we can still call TLS peers). */
  port: number;
  /** PEM contents (read from SIP_TLS_CERT / SIP_TLS_KEY / SIP_TLS_CA at start). */
  cert: string | null;
  key: string | null;
  ca: string | null;
  /** Check the certificate of the peers we call (SIP_TLS_VERIFY, default on). */
  verifyPeer: boolean;
}

function readPem(env: Env, name: string): string | null {
  const path = env[name];
  if (!path) return null;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${name}=${path} cannot be read (${(error as Error).message}): give the path of a PEM file`);
  }
}

function sipTls(env: Env): SipTlsConfig {
  const cert = readPem(env, 'SIP_TLS_CERT');
  const key = readPem(env, 'SIP_TLS_KEY');
  if (!cert !== !key) throw new Error('SIP over TLS needs both SIP_TLS_CERT and SIP_TLS_KEY (PEM files of our certificate and its key)');
  const verify = (env.SIP_TLS_VERIFY ?? '1').trim().toLowerCase();
  if (!['0', '1', 'true', 'false'].includes(verify)) throw new Error(`SIP_TLS_VERIFY=${env.SIP_TLS_VERIFY} is invalid: expected 1 or 0`);
  return {
    port: cert ? integer(env, 'SIP_TLS_PORT', 5061, 0, 65535) : -1,
    cert,
    key,
    ca: readPem(env, 'SIP_TLS_CA'),
    verifyPeer: verify === '1' || verify === 'true',
  };
}

function sipProtocols(raw: string | undefined): ('udp' | 'tcp')[] {
  if (!raw) return ['udp', 'tcp'];
  const protocols = raw.split(',').map((part) => part.trim().toLowerCase());
  const bad = protocols.filter((protocol) => protocol !== 'udp' && protocol !== 'tcp');
  if (bad.length > 0 || protocols.length === 0) {
    throw new Error(`SIP_TRANSPORTS=${raw} is invalid: expected udp, tcp or udp,tcp`);
  }
  return [...new Set(protocols)] as ('udp' | 'tcp')[];
}

/** Reads the configuration from environment variables (documented in README.md). */
export function loadConfig(env: Env = process.env): ServerConfig {
  const rtcMinPort = integer(env, 'RTC_MIN_PORT', 40000, 1024, 65535);
  const rtcMaxPort = integer(env, 'RTC_MAX_PORT', 49999, 1024, 65535);
  if (rtcMaxPort <= rtcMinPort) {
    throw new Error(`RTC_MAX_PORT (${rtcMaxPort}) must be greater than RTC_MIN_PORT (${rtcMinPort})`);
  }
  const announcedIp = env.MEDIASOUP_ANNOUNCED_IP || undefined;
  const dataDir = resolve(env.DATA_DIR || resolve(repoRoot, 'data'));
  return {
    host: env.HOST || '0.0.0.0',
    port: integer(env, 'PORT', 3000, 0, 65535),
    dataDir,
    webClientDir: resolve(env.WEB_CLIENT_DIR || resolve(repoRoot, 'web-client/dist')),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    auth: {
      apiKey: env.LIVEKIT_API_KEY || DEV_AUTH.apiKey,
      apiSecret: env.LIVEKIT_API_SECRET || DEV_AUTH.apiSecret,
    },
    operatorApiKey: env.OPERATOR_API_KEY || DEV_OPERATOR_API_KEY,
    webhookUrls: parseWebhookUrls(env.WEBHOOK_URLS),
    lateGraceMinutes: integer(env, 'LATE_GRACE_MINUTES', 5, 0, 24 * 60),
    audioLastN: integer(env, 'AUDIO_LAST_N', 4, 1, 32),
    rtmpPort: integer(env, 'RTMP_PORT', 1935, -1, 65535),
    sip: {
      port: integer(env, 'SIP_PORT', 5060, -1, 65535),
      host: env.SIP_HOST || '127.0.0.1',
      protocols: sipProtocols(env.SIP_TRANSPORTS),
      mediaAddress: env.SIP_MEDIA_ADDRESS || null,
      registrar: sipRegistrar(env),
      tls: sipTls(env),
    },
    recordings: {
      dir: env.RECORDINGS_DIR ? resolve(env.RECORDINGS_DIR) : null,
      retentionDays: integer(env, 'RECORDING_RETENTION_DAYS', 0, 0, 36500),
      minFreeMb: integer(env, 'RECORDING_MIN_FREE_MB', 1024, 0, 10_000_000),
    },
    sfu: {
      numWorkers: integer(env, 'NUM_WORKERS', availableParallelism(), 1, 256),
      rtcMinPort,
      rtcMaxPort,
      listenIps: [{ ip: env.MEDIASOUP_LISTEN_IP || '127.0.0.1', announcedIp }],
      workerLogLevel: oneOf(env, 'MEDIASOUP_LOG_LEVEL', 'warn', ['debug', 'warn', 'error', 'none']),
      initialAvailableOutgoingBitrate: integer(env, 'INITIAL_OUTGOING_BITRATE', 1_000_000, 100_000, 100_000_000),
      maxIncomingBitrate: integer(env, 'MAX_INCOMING_BITRATE', 3_000_000, 0, 100_000_000),
    },
  };
}
