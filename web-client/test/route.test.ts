import { describe, expect, it } from 'vitest';
import { parseRoute } from '../src/lib/route';

describe('parseRoute kiosk', () => {
  const at = (href: string) => parseRoute(new URL(href) as unknown as Location);

  it('kiosk=1 implies autojoin', () => {
    expect(at('http://h/m/plenary?kiosk=1')).toMatchObject({ page: 'meeting', kiosk: true, autojoin: true, token: '' });
    expect(at('http://h/m/plenary?token=t')).toMatchObject({ kiosk: false, autojoin: false, token: 't' });
  });
});

describe('parseRoute wall', () => {
  const at = (href: string) => parseRoute(new URL(href) as unknown as Location);

  it('reads the identities and the grid, defaulting to everyone on 3×3', () => {
    expect(at('http://h/wall/plenary?token=t&ids=a,%20b,,c&grid=4')).toEqual({
      page: 'wall',
      meetingId: 'plenary',
      token: 't',
      identities: ['a', 'b', 'c'],
      gridSize: 4,
    });
    expect(at('http://h/wall/plenary?token=t')).toMatchObject({ identities: null, gridSize: 3 });
    expect(at('http://h/wall/plenary?grid=99')).toMatchObject({ gridSize: 6 });
    expect(at('http://h/wall/plenary?grid=x')).toMatchObject({ gridSize: 3 });
  });
});

describe('parseRoute command centre', () => {
  const at = (href: string) => parseRoute(new URL(href) as unknown as Location);

  it('reads the token of /command', () => {
    expect(at('http://h/command?token=t')).toEqual({ page: 'command', token: 't' });
    expect(at('http://h/command/')).toEqual({ page: 'command', token: '' });
    expect(at('http://h/commander')).toEqual({ page: 'home' });
  });
});
