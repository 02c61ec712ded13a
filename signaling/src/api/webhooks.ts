// /api/webhooks/deliveries: what the webhook sender tried, newest first (for diagnosing receivers).
import type { ApiContext } from './ApiDeps.js';
import { json } from './reply.js';
import { route, type Route } from './Route.js';
import { deliveriesQuery } from './schemas.js';

export function webhookRoutes(api: ApiContext): Route[] {
  return [
    route({
      method: 'GET',
      path: '/api/webhooks/deliveries',
      summary: 'The webhook delivery log, newest first',
      tag: 'webhooks',
      access: 'operator',
      query: deliveriesQuery,
      responses: { 200: { description: 'deliveries with attempts, status and last error' } },
      handle: ({ query }) => json({ items: api.store.webhookDeliveries.list(query.limit ?? 100) }),
    }),
  ];
}
