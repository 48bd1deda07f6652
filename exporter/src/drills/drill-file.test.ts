import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fleet } from '../simulator/index.js';
import { exporterRoot } from '../util/package-root.js';
import { DEFAULT_INTENSITY, loadDrills, parseDrill } from './drill-file.js';

const servers = new Fleet({ seed: 42, scenarioRatePerHour: 0 }).layout.servers;
const firstOf = (role: string): string => servers.find((s) => s.role === role)?.id ?? '';

describe('drill files', () => {
  it('loads every shipped drill against the default fleet, steps in order, servers resolved from roles', () => {
    const drills = loadDrills(join(exporterRoot() ?? '', 'drills'), servers);
    expect(drills.map((d) => d.name)).toEqual([
      'cascading-lb-failure',
      'database-memory-leak',
      'disk-fills-overnight',
    ]);
    const leak = drills.find((d) => d.name === 'database-memory-leak');
    expect(leak?.steps.map((s) => [s.afterSeconds, s.kind, s.server])).toEqual([
      [0, 'memory_leak', firstOf('db')],
      [600, 'latency_degradation', firstOf('api')],
      [2100, 'service_crash', firstOf('db')],
    ]);
    expect(leak?.durationSeconds).toBe(2400);
    for (const d of drills) {
      expect(d.title.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(0);
    }
  });

  it('takes a server id or the nth server of a role; intensity defaults', () => {
    const d = parseDrill(
      `title: t
steps:
  - { after: 1m, kind: cpu_spike, server: ${servers[3]?.id ?? ''}, duration: 5m }
  - { after: 0s, kind: disk_fill, role: web, nth: 2, duration: 1h, intensity: 0.5 }
`,
      '/drills/two.yml',
      servers,
    );
    expect(d.name).toBe('two');
    expect(d.steps).toEqual([
      {
        afterSeconds: 0,
        kind: 'disk_fill',
        server: servers.filter((s) => s.role === 'web')[1]?.id,
        durationSeconds: 3600,
        intensity: 0.5,
      },
      {
        afterSeconds: 60,
        kind: 'cpu_spike',
        server: servers[3]?.id,
        durationSeconds: 300,
        intensity: DEFAULT_INTENSITY,
      },
    ]);
    expect(d.durationSeconds).toBe(3600);
    expect(d.settleSeconds).toBe(300);
    expect(
      parseDrill(
        `title: t\nsettle: 90s\nsteps: [{ after: 0s, kind: cpu_spike, role: web, duration: 1m }]\n`,
        '/d/s.yml',
        servers,
      ).settleSeconds,
    ).toBe(90);
  });

  it.each([
    [
      'an unknown server',
      'server: nope-01',
      /x\.yml \(steps\.0\.server\): the fleet has no server "nope-01"/,
    ],
    [
      'a role the fleet has too few of',
      'role: lb, nth: 9',
      /x\.yml \(steps\.0\.role\): the fleet has \d+ "lb" server\(s\), not 9/,
    ],
    ['server and role', 'server: web-01, role: web', /x\.yml:3 \(steps\.0\): give either server/],
    ['an unknown kind', 'server: web-01, kind: meteor', /x\.yml:3 \(steps\.0\.kind\): kind must be one of/],
  ])('refuses %s, naming the file, line and field', (_what, fields, message) => {
    const text = `title: t\nsteps:\n  - { after: 0s, duration: 1m, kind: cpu_spike, ${fields} }\n`;
    // The unknown-kind case brings its own kind (keys must be unique in a YAML map).
    const fixed = fields.includes('kind:') ? text.replace('kind: cpu_spike, ', '') : text;
    expect(() => parseDrill(fixed, '/d/x.yml', servers)).toThrow(message);
  });

  it('refuses a bad duration and a syntax error with the line', () => {
    expect(() =>
      parseDrill(
        'title: t\nsteps:\n  - kind: cpu_spike\n    server: web-01\n    after: soon\n    duration: 1m\n',
        '/d/x.yml',
        servers,
      ),
    ).toThrow(/x\.yml:5 \(steps\.0\.after\): after must be a duration like 90s or 10m/);
    expect(() => parseDrill('title: [\n', '/d/x.yml', servers)).toThrow(/x\.yml:\d+:\d+: not valid YAML/);
  });
});
