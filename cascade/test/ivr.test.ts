// The IVR's keypad logic: entries ended by #, cleared by *, ended by a pause or length, given up
// when nothing is typed; and where a dialled URI leads.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DigitCollector } from '../src/ivr/DigitCollector.js';
import { dialInTarget, isMeetingNumber } from '../src/ivr/dialIn.js';

afterEach(() => {
  vi.useRealTimers();
});

function collect(collector: DigitCollector): string[] {
  const entries: string[] = [];
  collector.on('entry', (digits) => entries.push(digits));
  collector.on('timeout', () => entries.push('<timeout>'));
  return entries;
}

describe('DigitCollector', () => {
  it('ends an entry at #, starts over at *, and ignores keys outside an entry', () => {
    vi.useFakeTimers();
    const collector = new DigitCollector();
    const entries = collect(collector);
    collector.press('9'); // before start: ignored
    collector.start();
    for (const key of '527*52718390#') collector.press(key);
    collector.press('1'); // after the entry: ignored
    expect(entries).toEqual(['52718390']);
    expect(() => {
      collector.start();
      collector.press('x');
    }).toThrow(/not a DTMF key/);
    collector.stop();
  });

  it('ends an entry after a pause or at the length limit, and gives up when nothing is typed', () => {
    vi.useFakeTimers();
    const collector = new DigitCollector({ maxDigits: 4, interDigitTimeoutMs: 3000, firstDigitTimeoutMs: 10_000 });
    const entries = collect(collector);
    collector.start();
    collector.press('1');
    collector.press('2');
    vi.advanceTimersByTime(2999);
    expect(entries).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(entries).toEqual(['12']);
    collector.start();
    for (const key of '12345') collector.press(key);
    expect(entries).toEqual(['12', '1234']);
    collector.start();
    vi.advanceTimersByTime(10_000);
    expect(entries).toEqual(['12', '1234', '<timeout>']);
    // '*' alone then a pause: nothing typed, so it gives up rather than entering ''.
    collector.start();
    collector.press('*');
    vi.advanceTimersByTime(3000);
    expect(entries.at(-1)).toBe('<timeout>');
  });

  it('started untimed, waits for the first key only once armed (a prompt plays meanwhile), and not after a key', () => {
    vi.useFakeTimers();
    const collector = new DigitCollector({ firstDigitTimeoutMs: 1000, interDigitTimeoutMs: 3000 });
    const entries = collect(collector);
    collector.start({ untimed: true });
    vi.advanceTimersByTime(10_000);
    expect(entries).toEqual([]);
    collector.armTimeout();
    vi.advanceTimersByTime(1000);
    expect(entries).toEqual(['<timeout>']);
    collector.start({ untimed: true });
    collector.press('4');
    collector.armTimeout(); // a key came during the prompt: the inter-digit pause still rules
    vi.advanceTimersByTime(2999);
    expect(entries).toEqual(['<timeout>']);
    vi.advanceTimersByTime(1);
    expect(entries).toEqual(['<timeout>', '4']);
  });
});

describe('dial-in targets', () => {
  it('takes 8-digit meeting numbers straight into the meeting and everything else to the IVR', () => {
    expect(dialInTarget('52718390')).toEqual({ kind: 'meeting', number: 52718390 });
    expect(dialInTarget('ivr')).toEqual({ kind: 'ivr' });
    expect(dialInTarget('02718390')).toEqual({ kind: 'ivr' });
    expect(dialInTarget('5271839')).toEqual({ kind: 'ivr' });
    expect(dialInTarget(undefined)).toEqual({ kind: 'ivr' });
    expect(isMeetingNumber('12345678')).toBe(true);
    expect(isMeetingNumber('1234567#')).toBe(false);
  });
});
