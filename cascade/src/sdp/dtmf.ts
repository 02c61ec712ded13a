/** One RFC 4733 telephone-event payload (4 bytes). */
export interface TelephoneEvent {
  /** 0–9, 10 `*`, 11 `#`, 12–15 A–D, others per the IANA registry. */
  event: number;
  end: boolean;
  /** Power level in -dBm0, 0 (loudest) to 63. */
  volume: number;
  /** In RTP clock units since the event began. */
  duration: number;
}

/** The DTMF keys in event-code order: the key of event n is DTMF_KEYS[n]. */
export const DTMF_KEYS = '0123456789*#ABCD';

/** The DTMF events we send and receive, as the `a=fmtp:<pt> 0-15` of telephone-event. */
export const DTMF_EVENT_CODES: readonly number[] = [...DTMF_KEYS].map((_, code) => code);

export function encodeTelephoneEvent({ event, end, volume, duration }: TelephoneEvent): Buffer {
  if (!Number.isInteger(event) || event < 0 || event > 255) throw new RangeError(`a telephone event is 0–255, not ${event}`);
  if (!Number.isInteger(volume) || volume < 0 || volume > 63) throw new RangeError(`a telephone-event volume is 0–63, not ${volume}`);
  if (!Number.isInteger(duration) || duration < 0 || duration > 0xffff) throw new RangeError(`a telephone-event duration is 0–65535, not ${duration}`);
  const payload = Buffer.alloc(4);
  payload.writeUInt8(event, 0);
  payload.writeUInt8((end ? 0x80 : 0) | volume, 1);
  payload.writeUInt16BE(duration, 2);
  return payload;
}

/** Reads the first event of a telephone-event payload (the R bit is ignored, as RFC 4733 says). */
export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent {
  if (payload.length < 4) throw new RangeError(`a telephone-event payload has 4 bytes, not ${payload.length}`);
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return { event: view.readUInt8(0), end: (view.readUInt8(1) & 0x80) !== 0, volume: view.readUInt8(1) & 0x3f, duration: view.readUInt16BE(2) };
}

/** The event code of a DTMF key (`0`–`9`, `*`, `#`, `A`–`D`). */
export function dtmfEvent(key: string): number {
  const code = key.length === 1 ? DTMF_KEYS.indexOf(key.toUpperCase()) : -1;
  if (code < 0) throw new RangeError(`"${key}" is not a DTMF key: use 0-9, *, #, A-D`);
  return code;
}

/** The events of a telephone-event fmtp (`0-15,66,70`), sorted; undefined when it is not such a list. */
export function parseEventList(text: string): number[] | undefined {
  const events = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^\s*(\d{1,3})(?:\s*-\s*(\d{1,3}))?\s*$/.exec(item);
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first > 255 || last > 255 || last < first) return undefined;
    for (let code = first; code <= last; code++) events.add(code);
  }
  return [...events].sort((a, b) => a - b);
}

/** Writes events as a telephone-event fmtp with ranges (`0-15,66`). */
export function formatEventList(events: readonly number[]): string {
  const sorted = [...new Set(events)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    ranges.push(start === end ? `${sorted[start]}` : `${sorted[start]}-${sorted[end]}`);
    start = end + 1;
  }
  return ranges.join(',');
}
