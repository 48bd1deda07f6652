/**
 * The exporter's logger factory: pino, JSON lines on stdout (pretty only on a terminal, where a human reads
 * it). Modules receive a Logger; nothing imports a global one.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** createLogger builds the process logger at `level`; `pretty` defaults to "stdout is a terminal". */
export function createLogger(level: string, pretty: boolean = process.stdout.isTTY === true): Logger {
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ level });
}

/** silentLogger is a logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
