/**
 * workerEntry finds how to start a worker_threads entry that sits beside the module asking for it, for each
 * way the exporter runs: `<name>.js` when compiled (tsc), `<bundled>` beside the esbuild bundle (`npm start`
 * builds worker entries there), or `<name>.ts` through tsx's loader when running from source (dev, tests,
 * benchmarks). It returns undefined when none can be started (the caller then works in-thread).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** WorkerEntry says how to start the worker: a file, or code to eval (the tsx bootstrap). */
export interface WorkerEntry {
  readonly entry: string | URL;
  readonly eval: boolean;
}

/**
 * workerEntry resolves the entry `name` (without extension) relative to `here` (the caller's
 * import.meta.url); `bundled` is its path relative to the bundle (e.g. `./tsdb/encode-worker.js`).
 */
export function workerEntry(here: string, name: string, bundled: string): WorkerEntry | undefined {
  if (!here.startsWith('file:')) return undefined;
  for (const rel of [`./${name}.js`, bundled]) {
    const u = new URL(rel, here);
    if (existsSync(fileURLToPath(u))) return { entry: u, eval: false };
  }
  const ts = new URL(`./${name}.ts`, here);
  if (!existsSync(fileURLToPath(ts))) return undefined;
  // tsx's ESM API (its CommonJS build cannot register the loader from a worker): the `import` target of
  // `tsx/esm/api`, found from the `require` target's path.
  let api: string;
  try {
    api = createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs');
  } catch {
    return undefined;
  }
  if (!existsSync(api)) return undefined;
  const code = `import(${JSON.stringify(pathToFileURL(api).href)}).then((m) => m.tsImport(${JSON.stringify(ts.href)}, ${JSON.stringify(here)}))`;
  return { entry: code, eval: true };
}
