import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it.each([
    ['a request header', { headers: { authorization: 'Bearer s3cret' } }],
    ['a nested request', { req: { headers: { authorization: 'Basic czNjcmV0' } } }],
    ['options', { options: { apiToken: 's3cret', hubToken: 's3cret', remoteWriteToken: 's3cret' } }],
    ['a token field', { token: 's3cret', hub: { token: 's3cret' } }],
  ])('never writes tokens: %s', (_name, fields) => {
    const lines: string[] = [];
    const logger = createLogger('info', false, { write: (l: string) => void lines.push(l) });
    logger.info(fields, 'something happened');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/s3cret|czNjcmV0/);
    expect(lines[0]).toContain('[redacted]');
  });
});
