// bundle.ts builds `npm start`'s bundle (dist/src) with esbuild's API. Every package in package.json's
// "dependencies" stays external — loaded from node_modules at run time — unless "openmanager.bundle" names it,
// so a new dependency can never end up inside the bundle by accident (native modules must stay external;
// pure-JS ones are bundled only where it was measured to pay, see package.json). The git revision is
// compiled in for openmanager_exporter_build_info and --version (OPENMANAGER_REVISION overrides it, e.g. in
// a container build without .git).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
interface PackageJson {
  dependencies?: Record<string, string>;
  openmanager?: { bundle?: string[] };
}
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageJson;
const bundled = new Set(pkg.openmanager?.bundle ?? []);
const external = Object.keys(pkg.dependencies ?? {})
  .filter((name) => !bundled.has(name))
  .flatMap((name) => [name, `${name}/*`]);

function revision(): string {
  if (process.env.OPENMANAGER_REVISION) return process.env.OPENMANAGER_REVISION;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

rmSync(new URL('../dist/src', import.meta.url), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: [
    'src/main.ts',
    'src/tsdb/encode-worker.ts',
    'src/coverage/job-worker.ts',
    'src/coverage/segment-worker.ts',
    'src/coverage/drill-sandbox-worker.ts',
  ],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  define: { OPENMANAGER_REVISION: JSON.stringify(revision()) },
  // One-byte source: non-ASCII in kept comments made V8 hold main.js as a two-byte string (more RSS).
  charset: 'ascii',
  minifyWhitespace: true,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  outdir: 'dist/src',
  outbase: 'src',
});
