/**
 * What this exporter is: its version (exporter/package.json), the git revision it was built from and the Node
 * version it runs on — for `--version`, `openmanager_exporter_build_info` and system-status. `npm start`'s
 * bundle compiles the revision in (scripts/bundle.ts); run from source (tsx, tests) it reads
 * OPENMANAGER_REVISION or says "source".
 */
import pkg from '../package.json' with { type: 'json' };

// Replaced by esbuild's `define` in the bundle; absent (a typeof check, no ReferenceError) when run from source.
declare const OPENMANAGER_REVISION: string | undefined;

/** BuildInfo identifies a running exporter. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly nodeVersion: string;
}

/** BUILD_INFO is this process's build. */
export const BUILD_INFO: BuildInfo = {
  version: pkg.version,
  revision:
    typeof OPENMANAGER_REVISION === 'string'
      ? OPENMANAGER_REVISION
      : process.env.OPENMANAGER_REVISION || 'source',
  nodeVersion: process.version,
};
