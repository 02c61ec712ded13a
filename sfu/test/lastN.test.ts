// Who is heard, as pure choices over audio levels: merging routers' reports, the audible set
// (audio last-N) and the active speaker.
import { describe, expect, it } from 'vitest';
import { mergeHeard, nextAudible, nextSpeaker, SPEAKER_SWITCH_MARGIN_DB, type HeardLevel } from '../src/lastN.js';

const level = (participantId: string, volume: number): HeardLevel => ({ participantId, volume });

describe('mergeHeard', () => {
  it('joins reports loudest first, keeps a participant’s louder level, and orders ties by id', () => {
    const merged = mergeHeard([
      [level('b', -30), level('a', -40)],
      [level('c', -20), level('a', -25)],
      [],
      [level('d', -30)],
    ]);
    expect(merged).toEqual([level('c', -20), level('a', -25), level('b', -30), level('d', -30)]);
  });
});

describe('nextAudible', () => {
  it('puts who spoke now first, loudest first, then keeps the previous order, up to the size', () => {
    expect(nextAudible([], [level('a', -20)], 3)).toEqual(['a']);
    expect(nextAudible(['a'], [level('c', -20), level('b', -30)], 3)).toEqual(['c', 'b', 'a']);
    expect(nextAudible(['c', 'b', 'a'], [level('d', -25)], 3)).toEqual(['d', 'c', 'b']);
    expect(nextAudible(['d', 'c', 'b'], [level('b', -25)], 3)).toEqual(['b', 'd', 'c']);
  });

  it('is stable through silence and takes only the loudest when more speak than fit', () => {
    expect(nextAudible(['a', 'b'], [], 4)).toEqual(['a', 'b']);
    const crowd = ['e', 'f', 'g', 'h', 'i'].map((id, index) => level(id, -10 - index));
    expect(nextAudible(['a'], crowd, 4)).toEqual(['e', 'f', 'g', 'h']);
  });
});

describe('nextSpeaker', () => {
  it('names the loudest and keeps the speaker through silence', () => {
    expect(nextSpeaker(null, [])).toBeNull();
    expect(nextSpeaker(null, [level('a', -20), level('b', -30)])).toBe('a');
    expect(nextSpeaker('a', [])).toBe('a');
  });

  it('keeps a speaker still heard within the margin of the loudest, and switches beyond it', () => {
    const within = [level('b', -20), level('a', -20 - SPEAKER_SWITCH_MARGIN_DB)];
    expect(nextSpeaker('a', within)).toBe('a');
    const beyond = [level('b', -20), level('a', -21 - SPEAKER_SWITCH_MARGIN_DB)];
    expect(nextSpeaker('a', beyond)).toBe('b');
    expect(nextSpeaker('a', [level('b', -50)])).toBe('b');
  });
});
