// Who is calling, and may they call this route. A bearer credential is tried against each kind
// in CREDENTIALS in turn; each route names one Access policy. Adding a credential kind is adding
// a verifier and saying which policies accept it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ProtocolError } from '../errors.js';
import { isChairRole } from '../governance/roles.js';
import { verifyJoinToken, type JoinGrant } from '../auth/tokens.js';
import type { Account } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { ApiError } from './ApiError.js';
import { verifySession } from './sessions.js';

export type Principal =
  | { kind: 'anonymous' }
  /** The operator API key, or the session of an operator account. */
  | { kind: 'operator'; by: string }
  /** The session of a unit or terminal account. */
  | { kind: 'account'; account: Account }
  /** A LiveKit join token for the meeting the route is about. */
  | { kind: 'meetingToken'; grant: JoinGrant };

/**
 * public: anyone; operator: operators only; unitAccount: sessions of unit and terminal accounts
 * (the /api/me endpoints); meetingChair: operators, and join tokens of the route's meeting
 * ({id}) whose role is chair, cochair or operator.
 */
export type Access = 'public' | 'operator' | 'unitAccount' | 'meetingChair';

const HOW_TO_AUTHENTICATE =
  'send "Authorization: Bearer <operator API key>" or "Bearer <session token>" from POST /api/auth/login';

type CredentialVerifier = (api: ApiContext, token: string, meetingId: string | undefined) => Promise<Principal | undefined>;

const CREDENTIALS: Record<Exclude<Principal['kind'], 'anonymous'>, CredentialVerifier> = {
  operator: async (api, token) => (sameSecret(token, api.operatorApiKey) ? { kind: 'operator', by: 'operator-api-key' } : undefined),
  account: async (api, token) => {
    const username = await verifySession(api.auth, token, api.now());
    if (username === undefined) return undefined;
    const account = api.store.accounts.get(username);
    if (!account || account.disabled) {
      throw new ApiError('UNAUTHORIZED', 'this session is no longer valid (account disabled or deleted): log in again');
    }
    return account.role === 'operator' ? { kind: 'operator', by: account.username } : { kind: 'account', account };
  },
  meetingToken: async (api, token, meetingId) => {
    if (meetingId === undefined) return undefined;
    try {
      return { kind: 'meetingToken', grant: await verifyJoinToken(api.auth, token, meetingId) };
    } catch (error) {
      if (error instanceof ProtocolError && error.code === 'FORBIDDEN') throw new ApiError('FORBIDDEN', error.message);
      return undefined;
    }
  },
};

const ACCEPTS: Record<Access, ReadonlyArray<keyof typeof CREDENTIALS>> = {
  public: [],
  operator: ['operator', 'account'],
  unitAccount: ['operator', 'account'],
  meetingChair: ['operator', 'account', 'meetingToken'],
};

const ALLOWS: Record<Access, (principal: Principal) => string | undefined> = {
  public: () => undefined,
  operator: (principal) => (principal.kind === 'operator' ? undefined : 'this needs an operator (the API key or an operator account)'),
  unitAccount: (principal) =>
    principal.kind === 'account'
      ? undefined
      : 'the /api/me endpoints are for unit and terminal accounts: operators use /api/meetings/{id}/tokens',
  meetingChair: (principal) => {
    if (principal.kind === 'operator') return undefined;
    if (principal.kind === 'meetingToken' && isChairRole(principal.grant.role)) return undefined;
    return "this needs an operator, or the meeting's chair (a join token of this meeting with role chair or cochair)";
  },
};

/** The caller of a route with `access`; UNAUTHORIZED or FORBIDDEN when they may not call it. */
export async function authorize(api: ApiContext, req: IncomingMessage, access: Access, meetingId?: string): Promise<Principal> {
  if (access === 'public') return { kind: 'anonymous' };
  const token = bearerToken(req);
  let principal: Principal | undefined;
  for (const kind of ACCEPTS[access]) {
    principal = await CREDENTIALS[kind](api, token, meetingId);
    if (principal) break;
  }
  if (!principal) throw new ApiError('UNAUTHORIZED', `the credential is not valid (wrong key, expired or malformed): ${HOW_TO_AUTHENTICATE}`);
  const refusal = ALLOWS[access](principal);
  if (refusal) throw new ApiError('FORBIDDEN', refusal);
  return principal;
}

function bearerToken(req: IncomingMessage): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match) throw new ApiError('UNAUTHORIZED', `no credential: ${HOW_TO_AUTHENTICATE}`);
  return match[1]!;
}

/** Constant-time comparison that does not leak the secret's length either. */
export function sameSecret(given: string, secret: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return secret.length > 0 && timingSafeEqual(digest(given), digest(secret));
}

/** Who did it, for logs and LiveMeetings calls. */
export function principalName(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'operator':
      return principal.by;
    case 'account':
      return principal.account.username;
    case 'meetingToken':
      return principal.grant.identity;
  }
}

/** The account of a unitAccount route's caller. */
export function accountOf(principal: Principal): Account {
  if (principal.kind !== 'account') throw new ApiError('FORBIDDEN', 'this needs the session of a unit or terminal account');
  return principal.account;
}
