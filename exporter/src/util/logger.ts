/**
 * The exporter's logger factory: pino, JSON lines on stdout (pretty only on a terminal, where a human reads
 * it). Modules receive a Logger; nothing imports a global one.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * REDACT_PATHS keep secrets out of the log even when a caller logs an object holding them (a request's
 * headers, the options): tokens are compared, never written down.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'hubToken',
  '*.hubToken',
  'remoteWriteToken',
  '*.remoteWriteToken',
];

/**
 * createLogger builds the process logger at `level`; `pretty` defaults to "stdout is a terminal". JSON lines
 * go to `destination` (default stdout).
 */
export function createLogger(
  level: string,
  pretty: boolean = process.stdout.isTTY === true,
  destination?: DestinationStream,
): Logger {
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (pretty) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return destination ? pino({ level, redact }, destination) : pino({ level, redact });
}

/** silentLogger is a logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
