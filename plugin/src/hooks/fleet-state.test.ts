import { applySnapshot, EMPTY_FLEET, sameServer, scenariosByServer } from './fleet-state';
import { metrics, scenario, server } from '../test/fixtures';

describe('applySnapshot', () => {
  const first = applySnapshot(EMPTY_FLEET, metrics([server('a'), server('b'), server('c')]), 1);

  test('the first snapshot fills the state in arrival order', () => {
    expect(first.servers.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(first.summary?.total_servers).toBe(3);
    expect(first.updatedAt).toBe(1);
  });

  test('unchanged servers keep their object identity; changed ones are replaced', () => {
    const next = applySnapshot(
      first,
      metrics([server('a'), server('b', { cpu: 99, status: 'critical' }), server('c')]),
      2
    );
    expect(next.servers[0]).toBe(first.servers[0]);
    expect(next.servers[2]).toBe(first.servers[2]);
    expect(next.servers[1]).not.toBe(first.servers[1]);
    expect(next.servers[1]?.status).toBe('critical');
  });

  test('an identical snapshot keeps the server array (no tile re-renders)', () => {
    const next = applySnapshot(first, metrics([server('a'), server('b'), server('c')]), 3);
    expect(next.servers).toBe(first.servers);
    expect(next.updatedAt).toBe(3);
  });

  test('a partial snapshot keeps absent servers and appends new ones', () => {
    const next = applySnapshot(first, metrics([server('d'), server('a', { memory: 90 })]), 4);
    expect(next.servers.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(next.byId.get('a')?.memory).toBe(90);
  });
});

describe('sameServer', () => {
  test.each([
    ['identical', server('a'), server('a'), true],
    ['cpu differs', server('a'), server('a', { cpu: 21 }), false],
    ['network differs', server('a'), server('a', { network: { in: 1, out: 500 } }), false],
    ['alerts differ', server('a'), server('a', { alerts: ['cpu > 80%'] }), false],
    ['status differs', server('a'), server('a', { status: 'down' }), false],
  ])('%s', (_name, a, b, expected) => {
    expect(sameServer(a, b)).toBe(expected);
  });
});

describe('scenariosByServer', () => {
  test('maps every affected server to its active scenario kinds, once each', () => {
    const map = scenariosByServer([
      scenario('1', { kind: 'cpu_spike', server: 'a', affected: ['a'] }),
      scenario('2', { kind: 'cascading_failure', server: 'db', affected: ['db', 'api', 'web'] }),
      scenario('3', { kind: 'cpu_spike', server: 'a', affected: ['a'] }),
      scenario('4', { kind: 'disk_fill', server: 'x', affected: [] }),
    ]);
    expect(Object.fromEntries(map)).toEqual({
      a: ['cpu_spike'],
      db: ['cascading_failure'],
      api: ['cascading_failure'],
      web: ['cascading_failure'],
      x: ['disk_fill'],
    });
  });
});
