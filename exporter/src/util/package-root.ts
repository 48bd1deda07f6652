/**
 * exporterRoot finds the exporter package's directory (the one whose package.json is
 * `@openmanager/exporter`) from this module's location, which differs between a run from source
 * (src/util/) and npm start's bundle (dist/src/). Files shipped beside the package (the repository's
 * `rules/`) are found from there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** EXPORTER_PACKAGE is the exporter's package name. */
const EXPORTER_PACKAGE = '@openmanager/exporter';

/** exporterRoot returns the exporter package directory, or undefined when this code runs outside it. */
export function exporterRoot(from: string = fileURLToPath(import.meta.url)): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === EXPORTER_PACKAGE)
          return dir;
      } catch {
        // An unreadable package.json on the way up is not ours; keep looking.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
