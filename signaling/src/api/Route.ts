// One endpoint of the admin API: method, path, who may call it, the zod schemas of what it takes,
// and its handler. The router validates with the schemas and the OpenAPI document is built from
// them, so the two cannot disagree.
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import type { Access, Principal } from './authorize.js';
import type { BodyKind } from './body.js';
import type { ApiReply } from './reply.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteContext<P, B, Q> {
  req: IncomingMessage;
  params: P;
  body: B;
  /** How the body came: 'empty' when there was none (then `body` is the schema's reading of {}). */
  bodyKind: BodyKind | 'empty';
  query: Q;
  principal: Principal;
  now: number;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

export interface RouteSpec<P extends z.ZodType, B extends z.ZodType, Q extends z.ZodType> {
  method: HttpMethod;
  /** OpenAPI-style template: /api/units/{id}. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  body?: B;
  /** What the body may be; default ['json'] when there is a body schema. */
  bodyKinds?: readonly BodyKind[];
  query?: Q;
  /** The success replies (errors are described for every route by openapi.ts). */
  responses: Record<number, ResponseSpec>;
  handle(context: RouteContext<z.output<P>, z.output<B>, z.output<Q>>): ApiReply | Promise<ApiReply>;
}

export type Route = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** Declares a route; the handler's context is typed from the schemas. */
export function route<
  P extends z.ZodType = z.ZodType<Record<string, never>>,
  B extends z.ZodType = z.ZodType<undefined>,
  Q extends z.ZodType = z.ZodType<Record<string, never>>,
>(spec: RouteSpec<P, B, Q>): Route {
  return spec as unknown as Route;
}
