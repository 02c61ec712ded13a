import { SfuError } from '@cityconf/sfu';
import { z } from 'zod';
import { ProtocolError } from './errors.js';
import type { Logger } from './log.js';
import { requestSchemas } from './protocol-schemas.js';
import { MAX_REQUEST_BYTES, type Ack, type RequestName } from './protocol.js';
import type { Session } from './Session.js';

const isRequestName = (name: string): name is RequestName => Object.hasOwn(requestSchemas, name);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'payload'}: ${issue.message}`)
    .join('; ');
}

function payloadBytes(payload: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(payload ?? null));
  } catch {
    return Infinity; // not serializable (cannot come from JSON, but be safe)
  }
}

/**
 * Runs one inbound request: size check, name check, schema validation, handler. Every outcome
 * becomes an Ack; unexpected faults are logged and reported as INTERNAL.
 */
export async function dispatch(session: Session, name: string, payload: unknown, logger: Logger): Promise<Ack<unknown>> {
  try {
    if (!session.requestBudget.take()) {
      throw new ProtocolError('RATE_LIMITED', 'too many requests from this connection: slow down and retry in a second');
    }
    if (payloadBytes(payload) > MAX_REQUEST_BYTES) {
      throw new ProtocolError('PAYLOAD_TOO_LARGE', `request payload exceeds ${MAX_REQUEST_BYTES} bytes`);
    }
    if (!isRequestName(name)) {
      throw new ProtocolError('UNKNOWN_REQUEST', `unknown request "${name.slice(0, 64)}"; see signaling/PROTOCOL.md`);
    }
    const parsed = requestSchemas[name].safeParse(payload ?? {});
    if (!parsed.success) throw new ProtocolError('BAD_REQUEST', `invalid ${name}: ${describeIssues(parsed.error)}`);
    const handler = session.handlers[name] as (payload: unknown) => Promise<unknown>;
    return { ok: true, data: await handler(parsed.data) };
  } catch (error) {
    if (error instanceof ProtocolError || error instanceof SfuError) {
      logger.debug({ request: name, code: error.code, msg: error.message }, 'request refused');
      return { ok: false, error: { code: error.code, message: error.message } };
    }
    logger.error({ err: error, request: name }, 'request failed');
    return { ok: false, error: { code: 'INTERNAL', message: 'internal server error; retry, and report it if it persists' } };
  }
}
