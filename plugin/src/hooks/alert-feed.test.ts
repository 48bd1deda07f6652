import {
  alertKey,
  applyAlertEvent,
  countAlerts,
  dropResolvedBefore,
  EMPTY_FEED,
  facetValues,
  fromAlertInfo,
  fromAlertsHistory,
  fromPromAlert,
  MAX_RESOLVED,
  resolvedHistoryQuery,
  selectAlerts,
  sortFeed,
  filterAlerts,
  compareAlerts,
  withActive,
  withResolvedHistory,
  type AlertFeed,
  type AlertRow,
} from './alert-feed';
import type { AlertInfo } from '../api/types';
import { alertInfo, promAlert } from '../test/fixtures';

const T0 = Date.UTC(2026, 0, 1, 12);

function feedOf(rows: AlertRow[]): AlertFeed {
  return withActive(EMPTY_FEED, rows, T0);
}

describe('alertKey', () => {
  test.each([
    ['is independent of label order', { b: '2', a: '1' }, { a: '1', b: '2' }],
    [
      'ignores the labels ALERTS adds (alertstate, __name__)',
      { a: '1', alertstate: 'firing', __name__: 'ALERTS' },
      { a: '1' },
    ],
  ])('%s', (_name, x, y) => {
    expect(alertKey(x)).toBe(alertKey(y));
  });
});

describe('reading alerts', () => {
  test("the rules API's alert: Go's %e value, RFC 3339 activeAt, summary", () => {
    const row = fromPromAlert(promAlert('HighCPUUsage', { server: 'web-01', severity: 'warning' }));
    expect(row).toMatchObject({
      name: 'HighCPUUsage',
      state: 'firing',
      severity: 'warning',
      server: 'web-01',
      summary: 'HighCPUUsage on web-01',
      value: 95,
      activeAt: T0,
      resolvedAt: null,
    });
  });

  test.each([
    ["Go's zero time means never", { activeAt: '0001-01-01T00:00:00Z' }, { activeAt: null }],
    ['NaN is unknown', { value: 'NaN' }, { value: null }],
    ['no severity label', {}, { severity: 'warning' }],
  ])('%s', (_name, over, expected) => {
    expect(fromPromAlert(promAlert('A', { server: 's', severity: 'warning' }, over))).toMatchObject(expected);
  });

  test("the hub's inactive alert is resolved, at its resolvedAt or the event's time", () => {
    expect(
      fromAlertInfo(alertInfo('A', { server: 's' }, { state: 'inactive', resolvedAt: T0 + 5 }), T0 + 9)
    ).toMatchObject({
      state: 'resolved',
      resolvedAt: T0 + 5,
    });
    expect(fromAlertInfo(alertInfo('A', { server: 's' }, { state: 'inactive' }), T0 + 9).resolvedAt).toBe(T0 + 9);
  });

  test('the ALERTS history: last time seen firing, ALERTS labels dropped', () => {
    const [row] = fromAlertsHistory([
      {
        metric: { alertname: 'ServerDown', alertstate: 'firing', server: 'web-01', severity: 'critical' },
        value: [T0 / 1000, String(T0 / 1000 - 60)],
      },
    ]);
    expect(row).toMatchObject({ name: 'ServerDown', state: 'resolved', server: 'web-01', resolvedAt: T0 - 60_000 });
    expect(row?.key).toBe(alertKey({ alertname: 'ServerDown', server: 'web-01', severity: 'critical' }));
    expect(resolvedHistoryQuery(3600)).toBe('max_over_time(timestamp(ALERTS{alertstate="firing"})[3600s:])');
  });
});

describe('feed transitions', () => {
  const cpu = fromPromAlert(promAlert('HighCPUUsage', { server: 'web-01', severity: 'warning' }));
  const mem = fromPromAlert(
    promAlert('HighMemoryUsage', { server: 'db-01', severity: 'warning' }, { state: 'pending' })
  );

  test('a complete active list keeps unchanged rows (same object) and resolves the alerts that left it', () => {
    const before = feedOf([cpu, mem]);
    const after = withActive(before, [{ ...cpu }], T0 + 1000);
    expect(after.active.get(cpu.key)).toBe(cpu);
    expect(after.active.has(mem.key)).toBe(false);
    expect(after.resolved.get(mem.key)).toMatchObject({
      state: 'resolved',
      resolvedAt: T0 + 1000,
      summary: mem.summary,
    });
  });

  test('an alert active again leaves the resolved list', () => {
    const resolvedOnce = withActive(feedOf([cpu]), [], T0 + 1000);
    expect(resolvedOnce.resolved.has(cpu.key)).toBe(true);
    const again = withActive(resolvedOnce, [cpu], T0 + 2000);
    expect(again.resolved.has(cpu.key)).toBe(false);
    expect(again.active.get(cpu.key)).toBe(cpu);
  });

  test('a hub event replaces the active list and records the resolved alert with its annotations', () => {
    const live = applyAlertEvent(EMPTY_FEED, {
      alert: alertInfo('ServerDown', { server: 'web-01', severity: 'critical' }),
      changedAt: T0,
      activeAlerts: [alertInfo('ServerDown', { server: 'web-01', severity: 'critical' })],
    });
    expect([...live.active.values()].map((r) => [r.name, r.state])).toEqual([['ServerDown', 'firing']]);
    const resolved = applyAlertEvent(live, {
      alert: alertInfo(
        'ServerDown',
        { server: 'web-01', severity: 'critical' },
        { state: 'inactive', resolvedAt: T0 + 60_000 }
      ),
      changedAt: T0 + 60_000,
      activeAlerts: [],
    });
    expect(resolved.active.size).toBe(0);
    expect([...resolved.resolved.values()]).toEqual([
      expect.objectContaining({
        name: 'ServerDown',
        state: 'resolved',
        resolvedAt: T0 + 60_000,
        summary: 'ServerDown on web-01',
      }),
    ]);
  });

  test('successive hub events: unchanged alerts keep their row, changed ones get new rows under the right key', () => {
    const a = (server: string, over: Partial<AlertInfo> = {}) =>
      alertInfo('HighCPUUsage', { server, severity: 'warning' }, over);
    const apply = (feed: AlertFeed, activeAlerts: AlertInfo[]) =>
      applyAlertEvent(feed, { alert: activeAlerts[0]!, changedAt: T0, activeAlerts });
    const byServer = (feed: AlertFeed) => new Map([...feed.active.values()].map((r) => [r.server, r]));
    // Every row must sit under the key its labels give, whatever the previous event's list was.
    const keyed = (feed: AlertFeed) => [...feed.active].every(([k, r]) => k === r.key && k === alertKey(r.labels));

    const first = apply(EMPTY_FEED, [a('web-1'), a('web-2'), a('web-3')]);
    const same = apply(first, [a('web-1'), a('web-2'), a('web-3')]);
    expect([...byServer(same)].every(([s, r]) => byServer(first).get(s) === r)).toBe(true);

    const revalued = apply(same, [a('web-1'), a('web-2', { value: 42 }), a('web-3')]);
    expect(byServer(revalued).get('web-1')).toBe(byServer(same).get('web-1'));
    expect(byServer(revalued).get('web-2')).toEqual(expect.objectContaining({ value: 42 }));
    expect(byServer(revalued).get('web-2')).not.toBe(byServer(same).get('web-2'));

    // Another alert where web-2 was, and the list reordered: keys follow the labels, not the places.
    const shuffled = apply(revalued, [a('web-3'), a('web-9'), a('web-1')]);
    expect(keyed(shuffled)).toBe(true);
    expect([...byServer(shuffled).keys()].sort()).toEqual(['web-1', 'web-3', 'web-9']);
    expect(byServer(shuffled).get('web-1')).toBe(byServer(same).get('web-1'));
    expect(shuffled.resolved.get(byServer(revalued).get('web-2')!.key)?.state).toBe('resolved');

    // Same place, one label more or one fewer: a different alert.
    const relabelled = apply(shuffled, [a('web-3', { labels: { alertname: 'HighCPUUsage', server: 'web-3' } })]);
    expect(keyed(relabelled)).toBe(true);
    expect(relabelled.active.has(alertKey({ alertname: 'HighCPUUsage', server: 'web-3' }))).toBe(true);
    const more = apply(relabelled, [a('web-3', { labels: { alertname: 'HighCPUUsage', server: 'web-3', core: '1' } })]);
    expect(keyed(more)).toBe(true);
    expect([...more.active.keys()]).toEqual([alertKey({ alertname: 'HighCPUUsage', server: 'web-3', core: '1' })]);
  });

  test('the history adds only what the feed does not know, and old resolutions are dropped', () => {
    const history = fromAlertsHistory([
      { metric: { alertname: 'HighCPUUsage', server: 'web-01', severity: 'warning' }, value: [0, String(T0 / 1000)] },
      { metric: { alertname: 'Old', server: 'web-02' }, value: [0, String((T0 - 7_200_000) / 1000)] },
    ]);
    const feed = withResolvedHistory(feedOf([cpu]), history);
    expect(feed.active.get(cpu.key)).toBe(cpu);
    expect([...feed.resolved.values()].map((r) => r.name)).toEqual(['Old']);
    expect(dropResolvedBefore(feed, T0 - 3_600_000).resolved.size).toBe(0);
  });

  test(`keeps at most ${MAX_RESOLVED} resolved alerts, the newest`, () => {
    const history = fromAlertsHistory(
      Array.from({ length: MAX_RESOLVED + 10 }, (_, i) => ({
        metric: { alertname: 'A', server: `s-${i}` },
        value: [0, String(T0 / 1000 + i)] as [number, string],
      }))
    );
    const feed = withResolvedHistory(EMPTY_FEED, history);
    expect(feed.resolved.size).toBe(MAX_RESOLVED);
    expect(feed.resolved.has(alertKey({ alertname: 'A', server: 's-0' }))).toBe(false);
  });
});

describe('selecting and counting', () => {
  const rows = [
    fromPromAlert(promAlert('HighCPUUsage', { server: 'web-10', severity: 'warning' })),
    fromPromAlert(promAlert('CriticalCPUUsage', { server: 'web-2', severity: 'critical' })),
    fromPromAlert(promAlert('HighMemoryUsage', { server: 'web-2', severity: 'warning' }, { state: 'pending' })),
    fromPromAlert(promAlert('HighCPUUsage', { server: 'web-2', severity: 'warning' })),
    fromPromAlert(promAlert('Unlabelled', { server: 'lb-1' })),
  ];
  const feed = withResolvedHistory(
    feedOf(rows),
    fromAlertsHistory([
      { metric: { alertname: 'DiskFull', server: 'db-1', severity: 'critical' }, value: [0, String(T0 / 1000)] },
    ])
  );

  test('orders by severity, then state, then server in natural order, then name', () => {
    expect(selectAlerts(feed).map((r) => `${r.severity} ${r.state} ${r.server} ${r.name}`)).toEqual([
      'critical firing web-2 CriticalCPUUsage',
      'critical resolved db-1 DiskFull',
      'warning firing web-2 HighCPUUsage',
      'warning firing web-10 HighCPUUsage',
      'warning pending web-2 HighMemoryUsage',
      'none firing lb-1 Unlabelled',
    ]);
  });

  test.each([
    ['severity', { severities: ['critical'] }, ['CriticalCPUUsage', 'DiskFull']],
    ['server', { servers: ['web-2'] }, ['CriticalCPUUsage', 'HighCPUUsage', 'HighMemoryUsage']],
    ['state', { states: ['pending' as const] }, ['HighMemoryUsage']],
    ['severity and state', { severities: ['critical'], states: ['resolved' as const] }, ['DiskFull']],
  ])('filters by %s', (_name, filters, names) => {
    expect(selectAlerts(feed, filters).map((r) => r.name)).toEqual(names);
  });

  test('sorts incrementally: from any earlier order, the same as a full sort, filters applied after', () => {
    const full = selectAlerts(feed);
    // Hints (any earlier answer is sorted): nothing, the answer itself, a suffix, a sparse subset, and one holding
    // a row no longer in the feed.
    const stale = fromPromAlert(promAlert('Gone', { server: 'web-9', severity: 'critical' }));
    for (const hint of [[], full, full.slice(2), [full[4]!, full[0]!].sort(compareAlerts), [stale, ...full.slice(1)]]) {
      expect(sortFeed(feed, hint)).toEqual(full);
    }
    // One alert changes (a new row object): it moves to its place, the others keep their order.
    const changed = { ...full[1]!, state: 'firing' as const, resolvedAt: null };
    const next: AlertFeed = {
      active: new Map([...feed.active, [changed.key, changed]]),
      resolved: new Map([...feed.resolved].filter(([k]) => k !== changed.key)),
    };
    expect(sortFeed(next, full)).toEqual(selectAlerts(next));
    // Every alert's value and summary change (new objects, as each rule evaluation makes): the order is kept, made
    // of the new rows.
    const revalued: AlertFeed = {
      active: new Map([...feed.active].map(([k, r]) => [k, { ...r, value: 1, summary: 'now 1' }])),
      resolved: feed.resolved,
    };
    const kept = sortFeed(revalued, full);
    expect(kept).toEqual(selectAlerts(revalued));
    expect(kept.every((r) => revalued.active.get(r.key) === r || revalued.resolved.get(r.key) === r)).toBe(true);
    expect(filterAlerts(sortFeed(feed), { servers: ['web-2'] })).toEqual(selectAlerts(feed, { servers: ['web-2'] }));
  });

  test('sorts incrementally through a run of updates that change values, states and start times', () => {
    // A fixed pseudo-random walk (no flaky seeds): alerts sharing name and server order by start time, so a
    // changed activeAt must move a row as a changed state does, while a changed value must not.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const base = Array.from({ length: 60 }, (_, i) =>
      fromPromAlert(
        promAlert(`A${i % 3}`, { server: `web-${i % 4}`, core: String(i), severity: ['critical', 'info'][i % 2]! })
      )
    );
    let current = feedOf(base);
    let order = sortFeed(current, []);
    for (let step = 0; step < 50; step++) {
      const active = new Map(current.active);
      for (const r of [...active.values()]) {
        const roll = random(10);
        if (roll < 5) {
          active.set(r.key, { ...r, value: random(100) });
        } else if (roll === 5) {
          active.set(r.key, { ...r, activeAt: T0 + random(1000) });
        } else if (roll === 6) {
          active.set(r.key, { ...r, state: r.state === 'firing' ? 'pending' : 'firing' });
        }
      }
      current = { active, resolved: current.resolved };
      order = sortFeed(current, order);
      expect(order).toEqual(selectAlerts(current));
    }
  });

  test('counts by state and lists the facets', () => {
    expect(countAlerts(feed)).toEqual({ firing: 4, pending: 1, resolved: 1 });
    expect(facetValues(feed)).toEqual({
      severities: ['critical', 'warning', 'none'],
      servers: ['db-1', 'lb-1', 'web-2', 'web-10'],
    });
  });
});
