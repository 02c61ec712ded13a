import { describe, expect, it } from 'vitest';
import { kioskToken, withoutToken } from '../src/lib/kioskToken';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> {
  const items = new Map<string, string>();
  return { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

describe('kioskToken', () => {
  it('stores the link token per meeting and returns it when a later link has none', () => {
    const storage = memoryStorage();
    expect(kioskToken(storage, 'plenary', 'jwt-1')).toBe('jwt-1');
    expect(kioskToken(storage, 'plenary', '')).toBe('jwt-1');
    expect(kioskToken(storage, 'other-room', '')).toBe('');
    expect(kioskToken(storage, 'plenary', 'jwt-2')).toBe('jwt-2');
    expect(kioskToken(storage, 'plenary', '')).toBe('jwt-2');
  });

  it('still uses the link token when storage throws', () => {
    const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
    expect(kioskToken(broken, 'plenary', 'jwt-1')).toBe('jwt-1');
    expect(kioskToken(broken, 'plenary', '')).toBe('');
  });

  it('removes only the token from the address', () => {
    expect(withoutToken('http://localhost/m/plenary?token=abc&kiosk=1#x')).toBe('/m/plenary?kiosk=1#x');
  });
});
