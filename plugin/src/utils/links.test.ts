import { locationUtil } from '@grafana/data';
import { config } from '@grafana/runtime';

import { alertListUrl, exploreUrl, grafanaUrl } from './links';

function query(url: string): URLSearchParams {
  return new URLSearchParams(url.split('?')[1] ?? '');
}

describe('links into Grafana', () => {
  const user = config.bootData.user;
  afterEach(() => {
    locationUtil.initialize({
      config: { appSubUrl: '' } as never,
      getTimeRangeForUrl: () => ({ from: 'now-1h', to: 'now' }),
      getVariablesUrlParams: () => ({}),
    });
    config.bootData.user = user;
  });

  test("carry Grafana's sub-path and the current org", () => {
    locationUtil.initialize({
      config: { appSubUrl: '/grafana' } as never,
      getTimeRangeForUrl: () => ({ from: 'now-1h', to: 'now' }),
      getVariablesUrlParams: () => ({}),
    });
    config.bootData.user = { ...user, orgId: 3 };
    const url = grafanaUrl('/alerting/list', { search: 'rule:"A"' });
    expect(url.startsWith('/grafana/alerting/list?')).toBe(true);
    expect(query(url).get('orgId')).toBe('3');
    expect(query(url).get('search')).toBe('rule:"A"');
  });

  test('Explore opens the queries against the chosen data source over the range', () => {
    const url = exploreUrl('stack-prom', [{ expr: 'up{server="web-01"}', legendFormat: '{{server}}' }], {
      from: 'now-1h',
      to: 'now',
    });
    expect(url.startsWith('/explore?')).toBe(true);
    expect(query(url).get('schemaVersion')).toBe('1');
    expect(JSON.parse(query(url).get('panes') ?? '')).toEqual({
      om: {
        datasource: 'stack-prom',
        queries: [
          {
            refId: 'A',
            expr: 'up{server="web-01"}',
            legendFormat: '{{server}}',
            editorMode: 'code',
            datasource: { type: 'prometheus', uid: 'stack-prom' },
          },
        ],
        range: { from: 'now-1h', to: 'now' },
      },
    });
  });

  test('the alert list is searched for the rule and server', () => {
    expect(query(alertListUrl('ServerDown', 'web-01')).get('search')).toBe('rule:"ServerDown" label:server=web-01');
    expect(query(alertListUrl('ExporterDown')).get('search')).toBe('rule:"ExporterDown"');
  });
});
