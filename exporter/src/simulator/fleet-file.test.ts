import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatorError } from './errors.js';
import { defaultFleet, loadFleetFile, parseFleet, parseFleetYaml, parseSize } from './fleet-file.js';

const GIB = 1024 ** 3;

const server = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'web-01',
  role: 'web',
  cores: 4,
  memory: '16GiB',
  zone: 'a',
  disks: [{ mount: '/', device: 'sda', size: '80GiB' }],
  interfaces: ['eth0'],
  services: ['nginx'],
  ...over,
});

describe('fleet file', () => {
  it('the shipped default has the 20 servers of the documented role mix', () => {
    const fleet = defaultFleet();
    expect(fleet).toHaveLength(20);
    const roles = fleet.reduce<Record<string, number>>(
      (a, s) => ({ ...a, [s.role]: (a[s.role] ?? 0) + 1 }),
      {},
    );
    expect(roles).toEqual({ lb: 2, web: 5, api: 4, db: 3, cache: 2, worker: 4 });
    expect(fleet.find((s) => s.id === 'db-01')).toEqual({
      id: 'db-01',
      role: 'db',
      cores: 16,
      memoryBytes: 64 * GIB,
      disks: [
        { mount: '/', device: 'nvme0n1', sizeBytes: 100 * GIB },
        { mount: '/var/lib/mysql', device: 'nvme1n1', sizeBytes: 2048 * GIB },
      ],
      interfaces: ['eth0', 'eth1'],
      services: ['mysql'],
      zone: 'ap-northeast-2a',
    });
    expect(new Set(fleet.flatMap((s) => s.services))).toEqual(
      new Set(['nginx', 'keepalived', 'php-fpm', 'app', 'mysql', 'redis', 'worker', 'cron']),
    );
  });

  it.each([
    ['16GiB', 16 * GIB],
    ['500 GB', 500e9],
    ['1.5TiB', 1.5 * 1024 ** 4],
    ['4096', 4096],
    [1024, 1024],
    ['12 parsecs', undefined],
    ['-1GB', undefined],
    [0, undefined],
    [1.5, undefined],
  ])('parseSize(%j) = %s', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([
    [{ servers: [server({ role: 'mainframe' })] }, 'servers[0].role', 'role must be one of'],
    [{ servers: [server({ memory: 'lots' })] }, 'servers[0].memory', 'byte count'],
    [{ servers: [server({ cores: 0 })] }, 'servers[0].cores', ''],
    [{ servers: [server({ cores: 2.5 })] }, 'servers[0].cores', ''],
    [
      { servers: [server({ disks: [{ mount: 'data', device: 'sdb', size: '1GB' }] })] },
      'servers[0].disks[0].mount',
      'absolute',
    ],
    [
      { servers: [server({ disks: [{ mount: '/', device: 'sdb', size: 'x' }] })] },
      'servers[0].disks[0].size',
      'byte count',
    ],
    [{ servers: [server({ disks: [] })] }, 'servers[0].disks', ''],
    [{ servers: [server(), server()] }, 'servers[1].id', 'duplicate id "web-01"'],
    [{ servers: [server({ id: 'web 01' })] }, 'servers[0].id', 'id must start'],
    [{ servers: [server({ interfaces: ['eth0', 'eth0'] })] }, 'servers[0].interfaces[1]', 'duplicate'],
    [{ servers: [server({ colour: 'red' })] }, 'servers[0]', 'colour'],
    [{ servers: [] }, 'servers', ''],
    [{ hosts: [] }, 'servers', ''],
    [[1, 2], '(root)', ''],
  ])('rejects %j naming %s', (doc, field, text) => {
    let err: unknown;
    try {
      parseFleet(doc, 'test.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimulatorError);
    expect(err).toMatchObject({ code: 'FLEET_FILE_INVALID' });
    const message = (err as Error).message;
    expect(message).toContain(`test.yaml: ${field}`);
    expect(message).toContain(text);
  });

  it('accepts a minimal server and defaults services to none', () => {
    const { services: _s, ...rest } = server();
    expect(parseFleet({ servers: [rest] })[0]?.services).toEqual([]);
  });

  describe('files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-file-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('loads YAML from disk and names the file in errors', () => {
      const ok = join(dir, 'ok.yaml');
      writeFileSync(
        ok,
        'servers:\n  - { id: a-1, role: api, cores: 2, memory: 4GiB, zone: z, interfaces: [eth0], disks: [{ mount: /, device: vda, size: 20GiB }] }\n',
      );
      expect(loadFleetFile(ok).map((s) => s.id)).toEqual(['a-1']);
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'servers: [ {');
      expect(() => loadFleetFile(bad)).toThrowError(/bad\.yaml: invalid YAML/);
      expect(() => loadFleetFile(join(dir, 'missing.yaml'))).toThrowError(
        expect.objectContaining({ code: 'FLEET_FILE_UNREADABLE' }) as Error,
      );
    });

    it('parseFleetYaml reports the field of a nested error', () => {
      expect(() => parseFleetYaml('servers:\n  - id: x\n', 'inline')).toThrowError(
        /inline: servers\[0\]\.role/,
      );
    });
  });
});
