import { groupAlerts } from './useAlerts';
import type { PromAlert } from '../api/types';

const alert = (
  name: string,
  severity: string | undefined,
  srv: string,
  state: PromAlert['state'] = 'firing'
): PromAlert => ({
  labels: { alertname: name, server: srv, ...(severity ? { severity } : {}) },
  annotations: {},
  state,
  value: '9.5e+01',
});

describe('groupAlerts', () => {
  test('groups by severity (worst first) then server, dropping inactive alerts', () => {
    const groups = groupAlerts([
      alert('HighCPUUsage', 'warning', 'web-2'),
      alert('CriticalCPUUsage', 'critical', 'web-10'),
      alert('HighMemoryUsage', 'warning', 'db-1', 'pending'),
      alert('DiskWillFill', 'info', 'db-1'),
      alert('Unlabelled', undefined, 'lb-1'),
      alert('Old', 'critical', 'web-1', 'inactive'),
      alert('CriticalCPUUsage', 'critical', 'web-2'),
    ]);
    expect(groups.map((g) => [g.severity, g.count, g.servers.map((s) => s.server)])).toEqual([
      ['critical', 2, ['web-2', 'web-10']],
      ['warning', 2, ['db-1', 'web-2']],
      ['info', 1, ['db-1']],
      ['none', 1, ['lb-1']],
    ]);
  });

  test('no alerts → no groups', () => {
    expect(groupAlerts([])).toEqual([]);
  });
});
