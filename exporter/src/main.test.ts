import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExporterProcess } from '../test/exporter-process.js';

const EXPORTER_DIR = fileURLToPath(new URL('..', import.meta.url));
const TSX = ['--import', 'tsx', 'src/main.ts'];

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [...TSX, ...args], {
    cwd: EXPORTER_DIR,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('main (real child processes)', () => {
  it.each<[string[], Record<string, string>, RegExp]>([
    [['--port', 'nope'], {}, /PORT \/ --port = "nope".*accepted values: an integer 0–65535/],
    [[], { TICK_SECONDS: '-3' }, /TICK_SECONDS \/ --tick-seconds = "-3".*accepted values/],
    [['--bogus'], {}, /bogus.*--help/],
    [['--fleet-file', '/nonexistent/fleet.yaml'], {}, /FLEET_FILE.*nonexistent/],
  ])('invalid configuration %j %j exits 2 naming the key', (args, env, message) => {
    const r = run(args, env);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
  });

  it('--version prints the package version, the revision and Node; the npm start bundle compiles the git revision in', () => {
    const pkg = JSON.parse(readFileSync(join(EXPORTER_DIR, 'package.json'), 'utf8')) as { version: string };
    const fromSource = run(['--version'], { OPENMANAGER_REVISION: '' });
    expect(fromSource.status).toBe(0);
    expect(fromSource.stdout).toBe(
      `openmanager-exporter ${pkg.version} (revision source, node ${process.version})\n`,
    );
    const bundle = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bundle.ts'], {
      cwd: EXPORTER_DIR,
      encoding: 'utf8',
    });
    expect(bundle.status, bundle.stderr).toBe(0);
    const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: EXPORTER_DIR,
      encoding: 'utf8',
    });
    const built = spawnSync(process.execPath, ['dist/src/main.js', '--version'], {
      cwd: EXPORTER_DIR,
      encoding: 'utf8',
    });
    expect(built.stdout).toBe(
      `openmanager-exporter ${pkg.version} (revision ${head.stdout.trim()}, node ${process.version})\n`,
    );
  });

  it('--help exits 0 and lists every option with its env var and default', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--port\s+PORT\s+3001/);
    expect(r.stdout).toMatch(/--api-token\s+API_TOKEN\s+\(unset\)/);
  });

  it('logs its URL, serves, and exits 0 on SIGTERM', async () => {
    const child = await ExporterProcess.start({ waitReady: false });
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
    expect(await child.stop()).toEqual({ code: 0, signal: null });
  });
});
