import { describe, expect, it } from 'vitest';
import { endReasonText } from '../src/lib/endReasonText';

describe('end reason text', () => {
  it('says why the session ended and what to do next, with a rejoin button only when rejoining can work', () => {
    expect(endReasonText('meetingEnded')).toEqual({ title: 'left.meetingEnded', next: 'left.meetingEndedNext', rejoin: null });
    expect(endReasonText('removed')).toEqual({ title: 'left.removed', next: 'left.removedNext', rejoin: null });
    expect(endReasonText('sessionReplaced')).toEqual({ title: 'left.sessionReplaced', next: 'left.sessionReplacedNext', rejoin: 'left.rejoinHere' });
    expect(endReasonText('left')).toEqual({ title: 'left.title', next: 'left.next', rejoin: 'left.rejoin' });
  });

  it('reads no reason as leaving', () => {
    expect(endReasonText(null)).toBe(endReasonText('left'));
  });
});
