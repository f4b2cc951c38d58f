// The admin API (master key only): virtual keys (create — the secret is shown once —, list, show, revoke) and the spend report.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { periodStart } from '../../limits/budget-period.js';
import { GatewayError } from '../../core/errors.js';
import { groupings, type Grouping, type SpendLedger, type SpendRow } from '../../accounting/spend-ledger.js';
import type { LedgerWriter } from '../../accounting/ledger-writer.js';
import { publicView } from '../../keys/key-record.js';
import type { KeyService } from '../../keys/key-service.js';
import { contextOf } from '../request-context.js';

export interface AdminServices {
  keys: KeyService | undefined;
  ledger: SpendLedger | undefined;
  writer: LedgerWriter | undefined;
  timeZone: string;
}

const KeyBudgetSchema = Type.Object(
  {
    period: Type.Union([Type.Literal('day'), Type.Literal('month')]),
    cost_usd: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const NewKeySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 128 })),
    team: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tier: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 256 })),
    rpm: Type.Optional(Type.Integer({ minimum: 1 })),
    tpm: Type.Optional(Type.Integer({ minimum: 1 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
    budgets: Type.Optional(Type.Array(KeyBudgetSchema, { maxItems: 4 })),
    expires_at: Type.Optional(Type.String({ minLength: 1, description: 'ISO date-time' })),
  },
  { additionalProperties: false },
);
export type NewKeyBody = Static<typeof NewKeySchema>;

function requireMaster(request: FastifyRequest): void {
  if (contextOf(request).principal.keyId !== 'master') {
    throw new GatewayError('BW_ERR_UNAUTHORIZED', 'The admin API needs the master key (auth.master_key)', { publicCode: 'invalid_api_key' });
  }
}

function parseInstant(value: string | undefined, field: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const instant = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(instant)) throw new GatewayError('BW_ERR_INVALID_REQUEST', `${field}: expected an ISO date (2025-03-14 or 2025-03-14T10:00:00Z) or epoch milliseconds`, { param: field });
  return instant;
}

export function spendRowJson(row: Omit<SpendRow, 'group'> & { group?: string | null }) {
  return { ...(row.group !== undefined ? { group: row.group } : {}), requests: row.requests, prompt_tokens: row.promptTokens, completion_tokens: row.completionTokens, cost_usd: row.costUsd };
}

export function registerAdminRoutes(app: FastifyInstance, services: AdminServices): void {
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request) => requireMaster(request));

      const keyService = () => {
        if (!services.keys) throw new GatewayError('BW_ERR_NOT_FOUND', 'Virtual keys need auth.master_key to be set', { publicCode: 'unknown_url' });
        return services.keys;
      };

      admin.post<{ Body: NewKeyBody }>('/keys', { schema: { body: NewKeySchema } }, async (request, reply) => {
        const body = request.body;
        const expiresAt = body.expires_at === undefined ? null : parseInstant(body.expires_at, 'expires_at', 0);
        const { secret, record } = await keyService().create({
          name: body.name ?? null,
          team: body.team ?? null,
          user: body.user ?? null,
          tier: body.tier ?? null,
          models: body.models ?? null,
          rpm: body.rpm ?? null,
          tpm: body.tpm ?? null,
          concurrency: body.concurrency ?? null,
          budgets: body.budgets ?? [],
          expiresAt,
        });
        // The only time the secret is ever shown: the store keeps its hash.
        return reply.code(201).send({ key: secret, ...publicView(record) });
      });

      admin.get<{ Querystring: { include_revoked?: string } }>('/keys', async (request) => {
        const records = await keyService().store.list(request.query.include_revoked === 'true');
        return { object: 'list', data: records.map(publicView) };
      });

      admin.get<{ Params: { id: string } }>('/keys/:id', async (request) => {
        const record = await keyService().store.get(request.params.id);
        if (!record) throw new GatewayError('BW_ERR_NOT_FOUND', `No key ${request.params.id}`, { publicCode: 'key_not_found' });
        return publicView(record);
      });

      admin.delete<{ Params: { id: string } }>('/keys/:id', async (request) => {
        const revoked = await keyService().revoke(request.params.id);
        if (!revoked) throw new GatewayError('BW_ERR_NOT_FOUND', `No live key ${request.params.id}`, { publicCode: 'key_not_found' });
        return { id: revoked.id, revoked: true, revoked_at: revoked.revokedAt };
      });

      admin.get<{ Querystring: { group_by?: string; from?: string; to?: string; limit?: string } }>('/spend', async (request) => {
        if (!services.ledger) throw new GatewayError('BW_ERR_NOT_FOUND', 'The spend ledger is disabled (accounting.ledger.enabled)', { publicCode: 'unknown_url' });
        const groupBy = (request.query.group_by ?? 'key') as Grouping;
        if (!groupings.includes(groupBy)) throw new GatewayError('BW_ERR_INVALID_REQUEST', `group_by: one of ${groupings.join(', ')}`, { param: 'group_by' });
        const now = Date.now();
        const range = { from: parseInstant(request.query.from, 'from', periodStart('day', now, services.timeZone)), to: parseInstant(request.query.to, 'to', now + 1) };
        const limit = Math.min(10_000, Math.max(1, Number(request.query.limit ?? 1_000) || 1_000));
        // Records of requests that just finished may still be in the writer's batch: write them first.
        await services.writer?.flush();
        const [rows, total] = await Promise.all([services.ledger.report(groupBy, range, limit), services.ledger.total(range)]);
        return { object: 'spend_report', group_by: groupBy, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), data: rows.map(spendRowJson), total: spendRowJson(total) };
      });
    },
    { prefix: '/admin' },
  );
}
