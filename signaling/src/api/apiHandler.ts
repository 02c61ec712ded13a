// The admin REST API (/api/*): routing, authorization, body and parameter validation, errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { accountRoutes } from './accounts.js';
import { withDefaults, type ApiDeps } from './ApiDeps.js';
import { ApiError, type ApiIssue } from './ApiError.js';
import { attendanceRoutes } from './attendance.js';
import { authorize } from './authorize.js';
import { cascadeRoutes } from './cascade.js';
import { decodeBody, mediaType, readBody, type RequestBody } from './body.js';
import { feedRoutes } from './feeds.js';
import { recordingRoutes } from './recordings.js';
import { joinTokenRoutes } from './joinTokens.js';
import { meetingRoutes } from './meetings.js';
import { openApiDocument } from './openapi.js';
import { answerFailure, json, send } from './reply.js';
import { route, type Route } from './Route.js';
import { unitRoutes } from './units.js';
import { webhookRoutes } from './webhooks.js';

export type { ApiDeps } from './ApiDeps.js';

export { DEV_OPERATOR_API_KEY } from '../config.js';

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  paramNames: string[];
}

function compile(route: Route): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name: string) => {
    paramNames.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), paramNames };
}

/** Routes whose path matches, literal segments before parameters (/api/units/export.csv before /api/units/{id}). */
function matching(routes: readonly CompiledRoute[], path: string): { route: Route; params: Record<string, string> }[] {
  return routes
    .flatMap((compiled) => {
      const match = compiled.pattern.exec(path);
      if (!match) return [];
      const params: Record<string, string> = {};
      compiled.paramNames.forEach((name, index) => {
        try {
          params[name] = decodeURIComponent(match[index + 1]!);
        } catch {
          throw new ApiError('BAD_REQUEST', `the path segment "${match[index + 1]}" is not valid percent-encoding`);
        }
      });
      return [{ route: compiled.route, params, specificity: compiled.paramNames.length }];
    })
    .sort((a, b) => a.specificity - b.specificity);
}

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ApiIssue[] = result.error.issues.map((issue) => ({
    ...(issue.path.length > 0 ? { field: issue.path.join('.') } : {}),
    message: issue.message,
  }));
  const first = issues[0]!;
  throw new ApiError(
    'BAD_REQUEST',
    `the ${where} is not valid: ${first.field ? `${first.field}: ` : ''}${first.message} (schemas: GET /api/openapi.json)`,
    issues,
  );
}

/** Handles every request under /api/. */
export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const api = withDefaults(deps);
  const routes: Route[] = [
    ...accountRoutes(api),
    ...unitRoutes(api),
    ...meetingRoutes(api),
    ...joinTokenRoutes(api),
    ...attendanceRoutes(api),
    ...webhookRoutes(api),
    ...feedRoutes(api),
    ...recordingRoutes(api),
    ...cascadeRoutes(api),
  ];
  let document: unknown;
  routes.push(
    route({
      method: 'GET',
      path: '/api/openapi.json',
      summary: 'This document',
      tag: 'meta',
      access: 'public',
      responses: { 200: { description: 'OpenAPI 3.1' } },
      handle: () => json((document ??= openApiDocument(routes))),
    }),
  );
  const compiled = routes.map(compile);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const candidates = matching(compiled, url.pathname);
    if (candidates.length === 0) {
      throw new ApiError('NOT_FOUND', `no endpoint ${url.pathname}: the endpoints are listed in GET /api/openapi.json`);
    }
    const found = candidates.find((candidate) => candidate.route.method === method);
    if (!found) {
      const allow = [...new Set(candidates.map((candidate) => candidate.route.method))].join(', ');
      throw new ApiError('METHOD_NOT_ALLOWED', `${url.pathname} does not take ${method}: use ${allow}`, undefined, { allow });
    }
    const { route: endpoint, params } = found;
    const principal = await authorize(api, req, endpoint.access, params.id);
    const validParams = parse(endpoint.params, params, 'path') ?? {};
    const query = parse(endpoint.query, Object.fromEntries(url.searchParams), 'query string') ?? {};
    let body: RequestBody = { kind: 'empty', value: undefined };
    if (method !== 'GET' && method !== 'DELETE') {
      const raw = await readBody(req);
      if (endpoint.body) body = decodeBody(raw, mediaType(req), endpoint.bodyKinds ?? ['json']);
    }
    const reply = await endpoint.handle({
      req,
      params: validParams,
      body: endpoint.body ? parse(endpoint.body, body.value, 'body') : undefined,
      bodyKind: body.kind,
      query,
      principal,
      now: api.now(),
    });
    send(res, reply);
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => answerFailure(req, res, error, api.logger, 'api request'));
  };
}
