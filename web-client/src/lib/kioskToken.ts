// A meeting-room PC (kiosk link) keeps its join token in localStorage, so that after a reboot or a
// reload `/m/<meetingId>?kiosk=1` joins without the token in the address bar.

const KEY_PREFIX = 'cityconf.kioskToken.';

/** The token of the link, stored for next time; without one in the link, the stored one ('' if none). */
export function kioskToken(storage: Pick<Storage, 'getItem' | 'setItem'> | null, meetingId: string, linkToken: string): string {
  try {
    if (linkToken) storage?.setItem(KEY_PREFIX + meetingId, linkToken);
    return linkToken || (storage?.getItem(KEY_PREFIX + meetingId) ?? '');
  } catch {
    // Storage can be unavailable (private mode): the link's token still works for this page.
    return linkToken;
  }
}

/** The page's address without its token, once the token is stored (nothing secret left on screen). */
export function withoutToken(href: string): string {
  const url = new URL(href);
  url.searchParams.delete('token');
  return url.pathname + url.search + url.hash;
}
