// The official's side of the admin API: log in with a unit account, list the unit's meetings, and
// fetch a join token for one. The session token lives in sessionStorage (gone with the tab).
import type { MeetingRole } from '@cityconf/signaling/protocol';

export interface AccountInfo {
  username: string;
  displayName: string;
  role: 'operator' | 'unit' | 'terminal';
  unitId: string | null;
}

export interface MyMeeting {
  id: string;
  number: number;
  title: string;
  startsAt: number | null;
  endsAt: number | null;
  state: 'scheduled' | 'live' | 'ended';
  role: MeetingRole;
}

/** A refused API call: the server's stable code (or NETWORK) and its message. */
export class AccountApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AccountApiError';
  }
}

const SESSION_KEY = 'cityconf.session';

interface StoredSession {
  token: string;
  account: AccountInfo;
}

export function storedSession(storage: Storage = sessionStorage): StoredSession | null {
  try {
    const value = JSON.parse(storage.getItem(SESSION_KEY) ?? 'null') as StoredSession | null;
    return value && typeof value.token === 'string' && value.account ? value : null;
  } catch {
    return null;
  }
}

export function forgetSession(storage: Storage = sessionStorage): void {
  storage.removeItem(SESSION_KEY);
}

/** A JSON call to the admin API with an optional Bearer token; rejects with AccountApiError. */
export async function apiRequest<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    throw new AccountApiError('NETWORK', error instanceof Error ? error.message : String(error), 0);
  }
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!response.ok) {
    throw new AccountApiError(body?.error?.code ?? 'INTERNAL', body?.error?.message ?? response.statusText, response.status);
  }
  return body as T;
}

export async function login(username: string, password: string, storage: Storage = sessionStorage): Promise<StoredSession> {
  const session = await apiRequest<StoredSession>('/api/auth/login', { method: 'POST', body: { username, password } });
  storage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export async function myMeetings(token: string): Promise<MyMeeting[]> {
  const { items } = await apiRequest<{ items: MyMeeting[] }>('/api/me/meetings', { token });
  return items;
}

/** A join token for this account's unit in the meeting. */
export async function joinToken(token: string, meetingId: string): Promise<string> {
  const reply = await apiRequest<{ token: string }>(`/api/me/meetings/${encodeURIComponent(meetingId)}/token`, {
    method: 'POST',
    body: {},
    token,
  });
  return reply.token;
}
