/**
 * withCpuProfile runs `fn` under V8's CPU profiler and writes the profile to `file` (open it in Chrome
 * DevTools); without a file it just runs `fn`. Benchmarks use it to profile their measured part only.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

export async function withCpuProfile<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> =>
    new Promise((res, rej) => session.post(method, (err, out) => (err ? rej(err) : res(out))));
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
