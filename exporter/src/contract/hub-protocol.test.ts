import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CHANNELS,
  CLIENT_MESSAGE_TYPES,
  clientMessageSchema,
  HUB_ERROR_CODE_LIST,
  serverMessageSchema,
  systemStatusSchema,
} from './hub-protocol.js';
import { unifiedMetricsSchema } from './unified-metrics.js';

const DOC = readFileSync(new URL('../../docs/hub-protocol.md', import.meta.url), 'utf8');
const jsonBlocks = [...DOC.matchAll(/```json\n([\s\S]*?)```/g)].map(
  (m) => JSON.parse(m[1] ?? '') as { type: string },
);

describe('hub-protocol.md', () => {
  it('has an example of every message type', () => {
    const types = new Set(jsonBlocks.map((b) => b.type));
    for (const t of [...CLIENT_MESSAGE_TYPES, 'welcome', 'subscriptions', 'data', 'pong', 'error'])
      expect(types).toContain(t);
    const channels = new Set(
      jsonBlocks.filter((b) => b.type === 'data').map((b) => (b as unknown as { channel: string }).channel),
    );
    expect([...channels].sort()).toEqual([...CHANNELS].sort());
  });

  it.each(jsonBlocks.map((b, i) => [i, b.type, b] as const))(
    'example %i (%s) matches the schemas',
    (_i, type, block) => {
      const schema = (CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)
        ? clientMessageSchema
        : serverMessageSchema;
      expect(schema.safeParse(block).error).toBeUndefined();
    },
  );

  it('documents every error code', () => {
    for (const code of HUB_ERROR_CODE_LIST) expect(DOC).toContain(`\`${code}\``);
  });
});

describe('protocol schemas', () => {
  it.each([
    ['subscribe without channels', { type: 'subscribe' }],
    ['subscribe with an unknown channel', { type: 'subscribe', channels: ['weather'] }],
    ['subscribe with a non-string server', { type: 'subscribe', channels: ['alerts'], servers: [3] }],
    ['subscribe with an empty server id', { type: 'subscribe', channels: ['alerts'], servers: [''] }],
    ['unsubscribe with no channels', { type: 'unsubscribe', channels: [] }],
    ['ping with an object id', { type: 'ping', id: {} }],
    ['unknown type', { type: 'hello' }],
  ])('client message rejected: %s', (_name, msg) => {
    expect(clientMessageSchema.safeParse(msg).success).toBe(false);
  });

  it.each([
    [
      'NaN cpu',
      {
        servers: [
          {
            id: 'a',
            cpu: Number.NaN,
            memory: 1,
            disk: 1,
            network: { in: 0, out: 0 },
            status: 'healthy',
            alerts: [],
          },
        ],
      },
    ],
    [
      'unknown status',
      {
        servers: [
          { id: 'a', cpu: 1, memory: 1, disk: 1, network: { in: 0, out: 0 }, status: 'meh', alerts: [] },
        ],
      },
    ],
    ['missing summary', { servers: [] }],
  ])('server-metrics payload rejected: %s', (_name, data) => {
    expect(unifiedMetricsSchema.safeParse(data).success).toBe(false);
  });

  it('rejects a system-status whose connection counts are negative', () => {
    const ok = (
      jsonBlocks.find(
        (b) => (b as unknown as { channel?: string }).channel === 'system-status',
      ) as unknown as {
        data: { connections: { ws: number } };
      }
    ).data;
    expect(systemStatusSchema.safeParse(ok).success).toBe(true);
    expect(systemStatusSchema.safeParse({ ...ok, connections: { ...ok.connections, ws: -1 } }).success).toBe(
      false,
    );
  });
});
