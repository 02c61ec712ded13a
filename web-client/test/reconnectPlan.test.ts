import { describe, expect, it } from 'vitest';
import { backOff, FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, UNREACHABLE_AFTER_MS, unreachableAfterMs } from '../src/lib/reconnectPlan';

describe('reconnect plan', () => {
  it('backs off from 1 s to 8 s and stays there', () => {
    const delays = [FIRST_RETRY_DELAY_MS];
    for (let i = 0; i < 5; i++) delays.push(backOff(delays.at(-1)!));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(MAX_RETRY_DELAY_MS).toBe(8_000);
  });

  it('says the server is unreachable after 30 s unless the link shortens it', () => {
    expect(UNREACHABLE_AFTER_MS).toBe(30_000);
    expect(unreachableAfterMs('')).toBe(30_000);
    expect(unreachableAfterMs('?token=x&unreachableAfterMs=3000')).toBe(3_000);
  });

  it('ignores a threshold that is not a number, too short, or longer than the default', () => {
    expect(unreachableAfterMs('?unreachableAfterMs=soon')).toBe(30_000);
    expect(unreachableAfterMs('?unreachableAfterMs=0')).toBe(30_000);
    expect(unreachableAfterMs('?unreachableAfterMs=500')).toBe(30_000);
    expect(unreachableAfterMs('?unreachableAfterMs=600000')).toBe(30_000);
  });
});
