// /api/accounts and /api/auth/login: who may use the API, and how they sign in.
import type { IncomingMessage } from 'node:http';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { StoreConflictError, type Account, type AccountRole, type Store } from '../store/types.js';
import type { ApiContext } from './ApiDeps.js';
import { accountOf } from './authorize.js';
import { ApiError, notFound } from './ApiError.js';
import { LoginRateLimiter } from './LoginRateLimiter.js';
import { json, noContent } from './reply.js';
import { route, type Route } from './Route.js';
import { accountParams, accountSchema, createAccountBody, itemsOf, loginBody, loginReplySchema, updateAccountBody } from './schemas.js';
import { signSession } from './sessions.js';

const TAG = 'accounts';

/** An account as the API shows it: without the password hash. */
export function accountView({ passwordHash: _hash, ...account }: Account): Omit<Account, 'passwordHash'> {
  return account;
}

function getAccount(store: Store, username: string): Account {
  const account = store.accounts.get(username);
  if (!account) throw notFound(`account "${username}"`, 'list the accounts with GET /api/accounts');
  return account;
}

/** Unit and terminal accounts speak for a unit, which must exist; an operator's unit is optional. */
function checkUnit(store: Store, role: AccountRole, unitId: string | null): void {
  if (unitId === null) {
    if (role !== 'operator') throw new ApiError('BAD_REQUEST', `a ${role} account needs a unitId: the unit it speaks for`);
    return;
  }
  if (!store.units.get(unitId)) {
    throw new ApiError('BAD_REQUEST', `unit "${unitId}" does not exist: add it to the directory first, or pick another`, [
      { field: 'unitId', message: 'unknown unit' },
    ]);
  }
}

const clientAddress = (req: IncomingMessage): string => req.socket.remoteAddress ?? 'unknown';

export function accountRoutes(api: ApiContext): Route[] {
  const { store } = api;
  const limiter = new LoginRateLimiter();
  // Unknown usernames are checked against this, so that they take as long as wrong passwords.
  let decoyHash: Promise<string> | undefined;
  return [
    route({
      method: 'POST',
      path: '/api/auth/login',
      summary: 'Log in with a username and password; returns a session token (12 h)',
      tag: 'auth',
      access: 'public',
      body: loginBody,
      responses: { 200: { description: 'the session token and who it is', schema: loginReplySchema } },
      handle: async ({ req, body, now }) => {
        limiter.attempt(body.username, clientAddress(req), now);
        const account = store.accounts.get(body.username);
        // The same answer for an unknown user and a wrong password: nothing to learn from it.
        decoyHash ??= hashPassword('decoy password');
        const valid = await verifyPassword(body.password, account?.passwordHash ?? (await decoyHash));
        if (!account || !valid) throw new ApiError('UNAUTHORIZED', 'wrong username or password: check both and try again');
        if (account.disabled) throw new ApiError('FORBIDDEN', 'this account is disabled: ask an operator to enable it');
        api.logger.info({ username: account.username, role: account.role }, 'api login');
        const { username, displayName, role, unitId } = account;
        return json({ token: await signSession(api.auth, username, now), account: { username, displayName, role, unitId } });
      },
    }),
    route({
      method: 'GET',
      path: '/api/accounts',
      summary: 'List the accounts',
      tag: TAG,
      access: 'operator',
      responses: { 200: { description: 'every account', schema: itemsOf(accountSchema) } },
      handle: () => json({ items: store.accounts.list().map(accountView) }),
    }),
    route({
      method: 'POST',
      path: '/api/accounts',
      summary: 'Create an account',
      tag: TAG,
      access: 'operator',
      body: createAccountBody,
      responses: { 201: { description: 'the account', schema: accountSchema } },
      handle: async ({ body, now }) => {
        const unitId = body.unitId ?? null;
        checkUnit(store, body.role, unitId);
        const account: Account = {
          username: body.username,
          displayName: body.displayName,
          role: body.role,
          unitId,
          passwordHash: await hashPassword(body.password),
          disabled: false,
          createdAt: now,
        };
        try {
          store.accounts.create(account);
        } catch (error) {
          if (error instanceof StoreConflictError) {
            throw new ApiError('CONFLICT', `account "${body.username}" exists already: pick another username, or PATCH it`);
          }
          throw error;
        }
        return json(accountView(account), 201);
      },
    }),
    route({
      method: 'PATCH',
      path: '/api/accounts/{username}',
      summary: 'Change an account (name, password, disabled, role, unit)',
      tag: TAG,
      access: 'operator',
      params: accountParams,
      body: updateAccountBody,
      responses: { 200: { description: 'the changed account', schema: accountSchema } },
      handle: async ({ params, body }) => {
        const current = getAccount(store, params.username);
        const { password, ...changes } = body;
        checkUnit(store, changes.role ?? current.role, changes.unitId === undefined ? current.unitId : changes.unitId);
        const updated = store.accounts.update(params.username, {
          ...changes,
          ...(password === undefined ? {} : { passwordHash: await hashPassword(password) }),
        });
        return json(accountView(updated ?? getAccount(store, params.username)));
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/accounts/{username}',
      summary: 'Delete an account',
      tag: TAG,
      access: 'operator',
      params: accountParams,
      responses: { 204: { description: 'deleted' } },
      handle: ({ params }) => {
        if (!store.accounts.delete(params.username)) throw notFound(`account "${params.username}"`, 'list the accounts with GET /api/accounts');
        return noContent;
      },
    }),
    route({
      method: 'GET',
      path: '/api/me',
      summary: 'The account of this session',
      tag: 'me',
      access: 'unitAccount',
      responses: { 200: { description: 'the account', schema: accountSchema } },
      handle: ({ principal }) => json(accountView(accountOf(principal))),
    }),
  ];
}
