import { ALL, nextIndex, visibleServers } from './Fleet.hooks';
import { info, server } from '../../test/fixtures';

const servers = [
  server('web-10', { cpu: 50, status: 'warning' }),
  server('web-2', { cpu: 90, status: 'critical' }),
  server('db-1', { cpu: 10, memory: 95, status: 'critical' }),
  server('lb-1', { status: 'down', cpu: 0 }),
  server('api-1', { cpu: 50 }),
];
const infos = new Map([
  ['web-10', info('web-10', 'web')],
  ['web-2', info('web-2', 'web')],
  ['db-1', info('db-1', 'db')],
  ['lb-1', info('lb-1', 'lb')],
  ['api-1', info('api-1', 'api')],
]);

describe('visibleServers', () => {
  test.each([
    [
      'all by name (numeric-aware)',
      { role: ALL, status: ALL } as const,
      'name' as const,
      ['api-1', 'db-1', 'lb-1', 'web-2', 'web-10'],
    ],
    [
      'by status, worst first',
      { role: ALL, status: ALL } as const,
      'status' as const,
      ['lb-1', 'db-1', 'web-2', 'web-10', 'api-1'],
    ],
    [
      'by cpu, ties by id',
      { role: ALL, status: ALL } as const,
      'cpu' as const,
      ['web-2', 'api-1', 'web-10', 'db-1', 'lb-1'],
    ],
    ['role web', { role: 'web', status: ALL } as const, 'name' as const, ['web-2', 'web-10']],
    ['status critical', { role: ALL, status: 'critical' } as const, 'memory' as const, ['db-1', 'web-2']],
    ['role and status', { role: 'web', status: 'warning' } as const, 'name' as const, ['web-10']],
  ])('%s', (_name, filter, sort, expected) => {
    expect(visibleServers(servers, infos, filter, sort).map((s) => s.id)).toEqual(expected);
  });
});

describe('nextIndex in a 10-tile grid, 4 columns', () => {
  test.each([
    ['ArrowRight', 0, 1],
    ['ArrowRight', 9, 9],
    ['ArrowLeft', 0, 0],
    ['ArrowDown', 1, 5],
    ['ArrowDown', 8, 9],
    ['ArrowUp', 5, 1],
    ['ArrowUp', 2, 2],
    ['Home', 7, 0],
    ['End', 2, 9],
    ['a', 2, undefined],
  ])('%s from %i → %s', (key, from, expected) => {
    expect(nextIndex(key, from, 10, 4)).toBe(expected);
  });
});
