import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs, one line per event; children carry meetingId / participantId. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'cityconf' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
