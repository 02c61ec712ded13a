// Pinyin initials for roster search. pinyin-pro carries a dictionary of tens of kB, so it is
// loaded (as its own chunk) the first time someone searches, never with the initial bundle.
import { memoizeInitials, type InitialsOf } from './roster';

let loading: Promise<InitialsOf> | null = null;

export function loadPinyinInitials(): Promise<InitialsOf> {
  loading ??= import('pinyin-pro').then(({ pinyin }) =>
    memoizeInitials((text) => pinyin(text, { pattern: 'first', toneType: 'none', type: 'array' }).join('')),
  );
  // A failed load (e.g. the chunk went away in a redeploy) may be retried on the next search.
  loading.catch(() => (loading = null));
  return loading;
}
