import * as z from 'zod';
import type { StrategyRegistry } from '../../strategies/registry.js';
import { route, type Route } from '../route.js';

const strategiesAnswer = z.object({
  strategies: z.array(
    z.object({
      name: z.string(),
      displayName: z.string(),
      description: z.string(),
      timeframe: z.string().meta({ description: 'the default decision timeframe' }),
      parameters: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema of the parameters' }),
    }),
  ),
});

/** JSON Schema (2020-12) of a strategy's parameters, from its zod schema: what the dashboard's form is built from. */
export function parametersJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

export function strategyRoutes(registry: StrategyRegistry): Route[] {
  // Built once: the registry does not change while the server runs.
  let cached: unknown;
  const listing = (): unknown =>
    (cached ??= {
      strategies: registry.names().map((name) => {
        const d = registry.get(name);
        const defaults = d.schema.safeParse({});
        const timeframe = defaults.success ? (defaults.data as { timeframe?: string }).timeframe : undefined;
        return {
          name: d.name,
          displayName: d.displayName,
          description: d.summary,
          timeframe: timeframe ?? '1m',
          parameters: parametersJsonSchema(d.schema),
        };
      }),
    });
  return [
    route({
      method: 'get',
      path: '/api/strategies',
      summary: 'The strategies, with the JSON Schema of their parameters',
      tag: 'strategies',
      responses: { 200: { description: 'the strategies', schema: strategiesAnswer } },
      handle: async () => ({ body: listing() }),
    }),
  ];
}
