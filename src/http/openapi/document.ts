import * as z from 'zod';
import type { Route } from '../route.js';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, s]) => {
    const json = jsonSchema(s, 'input');
    const { description } = json;
    return {
      name,
      in: where,
      required: where === 'path' || !s.safeParse(undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      schema: json,
    };
  });
}

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', properties: { field: { type: 'string' } } },
      },
      required: ['code', 'message', 'details'],
    },
  },
  required: ['error'],
};

/** OpenAPI 3.1 of the routes, from the very zod schemas that validate them. */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      const contentType = res.contentType ?? 'application/json';
      const schema =
        res.schema !== undefined
          ? jsonSchema(res.schema, 'output')
          : Number(status) >= 400
            ? ERROR_SCHEMA
            : undefined;
      responses[status] = {
        description: res.description,
        ...(schema !== undefined
          ? { content: { [contentType]: { schema } } }
          : contentType !== 'application/json'
            ? { content: { [contentType]: {} } }
            : {}),
      };
    }
    const op = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}${path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body !== undefined
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
    (paths[path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'rxtrade API',
      version,
      description:
        'Paper-trading bots, market data and backtests. Errors: { error: { code, message, details } }. With RXTRADE_API_TOKEN set, every POST/PUT needs Authorization: Bearer <token>.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    paths,
  };
}
