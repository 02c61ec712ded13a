// Client logs: one event name plus fields, so that a console capture reads like the server's logs.

type Fields = Record<string, unknown>;

export const log = {
  info: (event: string, fields: Fields = {}): void => console.info('[cityconf]', event, fields),
  warn: (event: string, fields: Fields = {}): void => console.warn('[cityconf]', event, fields),
};

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
