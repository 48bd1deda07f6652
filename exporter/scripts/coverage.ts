/** `npm run coverage -w exporter -- …`: the coverage command line (src/coverage/cli.ts). */
import { coverageCli } from '../src/coverage/cli.js';

process.exitCode = await coverageCli(process.argv.slice(2));
