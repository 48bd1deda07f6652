import {
  createTheme,
  FieldColorModeId,
  FieldType,
  toDataFrame,
  LoadingState,
  getDefaultTimeRange,
} from '@grafana/data';

import { cellLink, toCells } from './cells';

const theme = createTheme();

const fieldDefaults = {
  color: { mode: FieldColorModeId.Thresholds },
  thresholds: {
    mode: 'absolute' as never,
    steps: [
      { value: -Infinity, color: 'green' },
      { value: 95, color: 'red' },
    ],
  },
};

// In Grafana the query runner applies the panel's field config to the frames before the panel sees them.
function frame(server: string, values: number[]) {
  return toDataFrame({
    fields: [
      { name: 'Time', type: FieldType.time, values: values.map((_, i) => i * 1000) },
      { name: 'Value', type: FieldType.number, values, labels: { server, job: 'fleet' }, config: fieldDefaults },
    ],
  });
}

describe('toCells', () => {
  const data = {
    state: LoadingState.Done,
    series: [frame('web-01', [10, 20]), frame('db-01', [50, 97])],
    timeRange: getDefaultTimeRange(),
  };
  const fieldConfig = { defaults: fieldDefaults, overrides: [] };

  test('one cell per series with its last value, named by the chosen label and coloured by threshold', () => {
    const cells = toCells({
      data,
      fieldConfig,
      nameLabel: 'server',
      theme,
      replaceVariables: (s) => s,
      timeZone: 'utc',
    });
    expect(cells.map((c) => [c.name, c.value])).toEqual([
      ['web-01', 20],
      ['db-01', 97],
    ]);
    expect(cells[0]?.color).toBe(theme.visualization.getColorByName('green'));
    expect(cells[1]?.color).toBe(theme.visualization.getColorByName('red'));
  });

  test('a label the series lack falls back to the display name', () => {
    const cells = toCells({
      data,
      fieldConfig,
      nameLabel: 'instance',
      theme,
      replaceVariables: (s) => s,
      timeZone: 'utc',
    });
    expect(cells[0]?.name).not.toBe('');
  });
});

describe('cellLink', () => {
  const cell = { key: 'k', name: 'web 01', value: 12.5, text: '12.5', color: '#000', labels: { server: 'web/01' } };
  test.each([
    ['/a/app/server/${name}', '/a/app/server/web%2001'],
    ['/d/x?var-server=${labels.server}&v=${value}', '/d/x?var-server=web%2F01&v=12.5'],
    ['/d/x?var-missing=${labels.zone}', '/d/x?var-missing='],
    ['', ''],
  ])('%s → %s', (template, expected) => {
    expect(cellLink(template, cell)).toBe(expected);
  });
});
