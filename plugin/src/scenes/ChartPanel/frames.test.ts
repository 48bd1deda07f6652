import { createDataFrame, createTheme, DataTopic, FieldType, type DataFrame } from '@grafana/data';

import {
  annotationRegions,
  anomalyRegions,
  drawableFrames,
  FORECAST_NAME,
  regionsFromSeries,
  runsOf,
  splitFrames,
  type ChartOptions,
} from './frames';

const theme = createTheme();
const S = 15_000;

function series(refId: string, name: string, points: Array<[number, number]>): DataFrame {
  return createDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: points.map((p) => p[0]) },
      { name: 'Value', type: FieldType.number, values: points.map((p) => p[1]), config: { displayNameFromDS: name } },
    ],
  });
}

describe('runsOf', () => {
  const pts = (vs: Array<number | null>) =>
    vs.map((v, i) => ({ t: i * S, v: v ?? NaN })).filter((p) => !Number.isNaN(p.v));
  test.each([
    ['one run, ending a step after its last sample', [1, 1, 1], [[0, 3 * S]]],
    [
      'two runs split by a value that fails',
      [1, 0, 1],
      [
        [0, S],
        [2 * S, 3 * S],
      ],
    ],
    [
      'two runs split by a gap in the samples',
      [1, null, null, 1, 1],
      [
        [0, S],
        [3 * S, 5 * S],
      ],
    ],
    ['nothing kept', [0, 0], []],
  ])('%s', (_name, values, expected) => {
    expect(runsOf(pts(values), (v) => v > 0, S)).toEqual(expected);
  });

  test('a lone sample spans the fallback step', () => {
    expect(runsOf([{ t: 100, v: 1 }], () => true, S)).toEqual([[100, 100 + S]]);
  });
});

describe('regions', () => {
  test('series become labelled regions where their value is kept', () => {
    const frames = [
      series('alerts', 'ServerDown', [
        [0, 1],
        [S, 1],
      ]),
      series('alerts', 'HighCPUUsage', [[4 * S, 1]]),
    ];
    expect(
      regionsFromSeries(
        frames,
        'alert',
        (v) => v > 0,
        (f) => f.config.displayNameFromDS ?? '',
        S
      )
    ).toEqual([
      { start: 0, end: 2 * S, label: 'ServerDown', kind: 'alert' },
      { start: 4 * S, end: 5 * S, label: 'HighCPUUsage', kind: 'alert' },
    ]);
  });

  test('anomaly regions are where the score reaches the detector threshold (0.5)', () => {
    const score = series('anomaly', 'anomaly', [
      [0, 0.1],
      [S, 0.5],
      [2 * S, 0.9],
      [3 * S, 0.2],
    ]);
    expect(anomalyRegions([score], S)).toEqual([{ start: S, end: 3 * S, label: 'anomaly', kind: 'anomaly' }]);
  });

  test('annotation frames (a data layer) become regions of their kind', () => {
    const frame = createDataFrame({
      fields: [
        { name: 'time', type: FieldType.time, values: [0, 10] },
        { name: 'timeEnd', type: FieldType.time, values: [5, 20] },
        { name: 'title', type: FieldType.string, values: ['cpu_spike', 'ServerDown'] },
        { name: 'kind', type: FieldType.string, values: ['scenario', 'alert'] },
      ],
    });
    frame.meta = { dataTopic: DataTopic.Annotations };
    expect(annotationRegions([frame])).toEqual([
      { start: 0, end: 5, label: 'cpu_spike', kind: 'scenario' },
      { start: 10, end: 20, label: 'ServerDown', kind: 'alert' },
    ]);
    expect(annotationRegions(undefined)).toEqual([]);
  });
});

describe('drawable frames', () => {
  const options: ChartOptions = {
    unit: 'percent',
    min: 0,
    max: 100,
    bandUpper: 'forecast_upper',
    bandLower: 'forecast_lower',
    anomalyRefId: 'anomaly',
  };
  const pts: Array<[number, number]> = [
    [0, 10],
    [S, 20],
  ];

  test('sorts frames by refId into lines, band bounds and anomaly scores', () => {
    const split = splitFrames(
      [
        series('A', 'cpu', pts),
        series('forecast_upper', 'forecast', pts),
        series('forecast_lower', 'forecast (lower)', pts),
        series('anomaly', 'anomaly', pts),
      ],
      options
    );
    expect([split.lines, split.upper, split.lower, split.anomaly].map((f) => f.length)).toEqual([1, 1, 1, 1]);
  });

  test('lines carry the unit and bounds; the band fills from upper down to lower, which hides from the legend', () => {
    const split = splitFrames(
      [series('A', 'cpu', pts), series('forecast_upper', 'x', pts), series('forecast_lower', 'y', pts)],
      options
    );
    const { frames, points } = drawableFrames(split, options, theme);
    expect(points).toBe(6);
    const fields = frames.map((f) => f.fields[1]!);
    expect(fields.map((f) => f.name)).toEqual(['cpu', FORECAST_NAME, 'forecast (lower)']);
    expect(fields[0]?.config).toMatchObject({ unit: 'percent', min: 0, max: 100 });
    expect(fields[1]?.config.custom).toMatchObject({ fillBelowTo: 'forecast (lower)', lineWidth: 0 });
    expect(fields[2]?.config.custom.hideFrom.legend).toBe(true);
    expect(fields[0]?.display?.(42).text).toBe('42');
  });

  test('no band without both bounds (the analysis has not written them yet), and unique names', () => {
    const split = splitFrames(
      [series('A', 'cpu', pts), series('B', 'cpu', pts), series('forecast_upper', 'x', pts)],
      options
    );
    const { frames } = drawableFrames(split, options, theme);
    expect(frames.map((f) => f.fields[1]?.name)).toEqual(['cpu', 'cpu (2)']);
  });
});
