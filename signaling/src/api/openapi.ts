// The OpenAPI 3.1 document of the admin API, built from the routes' own zod schemas.
import { z } from 'zod';
import type { Access } from './authorize.js';
import type { Route } from './Route.js';

type JsonSchema = Record<string, unknown>;

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable: switch on it' },
        message: { type: 'string', description: 'what went wrong and what to do' },
        issues: {
          type: 'array',
          items: {
            type: 'object',
            properties: { row: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

const ACCESS_NOTES: Record<Access, string> = {
  public: 'No credential needed.',
  operator: 'Operators only: the operator API key, or the session of an operator account.',
  unitAccount: 'The session of a unit or terminal account.',
  meetingChair: "Operators, or a join token of this meeting whose role is chair, cochair or operator.",
};

/** Request schemas as the client writes them (before transforms and defaults); replies as sent. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' });
  return rest;
}

function parameters(route: Route): JsonSchema[] {
  const list: JsonSchema[] = [];
  for (const [place, schema] of [['path', route.params], ['query', route.query]] as const) {
    if (!schema) continue;
    const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      list.push({ name, in: place, required: place === 'path' || (object.required ?? []).includes(name), schema: property });
    }
  }
  return list;
}

function requestBody(route: Route): JsonSchema | undefined {
  if (!route.body) return undefined;
  const kinds = route.bodyKinds ?? ['json'];
  const content: Record<string, { schema: JsonSchema }> = {};
  if (kinds.includes('json')) content['application/json'] = { schema: jsonSchema(route.body, 'input') };
  if (kinds.includes('csv')) content['text/csv'] = { schema: { type: 'string' } };
  // A body whose every field is optional may be left out.
  return { required: kinds.includes('csv') || !route.body.safeParse({}).success, content };
}

function responses(route: Route): JsonSchema {
  const result: JsonSchema = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const contentType = spec.contentType ?? 'application/json';
    result[status] = {
      description: spec.description,
      ...(status === '204' ? {} : { content: { [contentType]: { schema: spec.schema ? jsonSchema(spec.schema, 'output') : {} } } }),
    };
  }
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  result.default = error('an error: { error: { code, message, issues? } } with the HTTP status of its code');
  return result;
}

export function openApiDocument(routes: readonly Route[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const body = requestBody(route);
    const params = parameters(route);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      summary: route.summary,
      description: ACCESS_NOTES[route.access],
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()} ${route.path}`,
      ...(route.access === 'public' ? { security: [] } : {}),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: responses(route),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'cityconf admin API',
      version: '1',
      description:
        'Units, accounts, meetings, join tokens and attendance of the city–county–town conferencing system. ' +
        'Authenticate with "Authorization: Bearer <operator API key>" or a session token from POST /api/auth/login.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'the operator API key (OPERATOR_API_KEY), a session token (POST /api/auth/login), or for attendance a join token of the meeting',
        },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
