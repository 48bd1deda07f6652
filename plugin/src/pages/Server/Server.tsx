import React, { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { css } from '@emotion/css';
import { dateTime, rangeUtil, type GrafanaTheme2, type TimeRange } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert, Badge, Stack, TimeRangePicker, useStyles2 } from '@grafana/ui';

import { exporterClient } from '../../api/client';
import { testIds } from '../../components/testIds';
import { TimeSeriesChart } from '../../components/TimeSeriesChart/TimeSeriesChart';
import { prefixRoute, ROUTES } from '../../constants';
import { useAsync } from '../../hooks/useAsync';
import { scenarioRegions, useServerCharts, useServices } from '../../hooks/useServerCharts';

/** DEFAULT_RANGE is the Server page's initial time range. */
const DEFAULT_RANGE = { from: 'now-1h', to: 'now' };

function resolve(raw: { from: string; to: string }): TimeRange {
  return rangeUtil.convertRawToRange(raw);
}

/** shiftRange moves a range by half its width (the picker's back/forward arrows). */
function shiftRange(range: TimeRange, direction: -1 | 1): TimeRange {
  const width = range.to.valueOf() - range.from.valueOf();
  const delta = (width / 2) * direction;
  const from = dateTime(range.from.valueOf() + delta);
  const to = dateTime(range.to.valueOf() + delta);
  return { from, to, raw: { from, to } };
}

/** Server is one server's page: charts over a chosen time range, its services, and its scenario history. */
export function Server() {
  const styles = useStyles2(getStyles);
  const { id = '' } = useParams<{ id: string }>();
  const [timeRange, setTimeRange] = useState<TimeRange>(() => resolve(DEFAULT_RANGE));
  const { charts } = useServerCharts(id, timeRange);
  const { services, error: servicesError } = useServices(id);
  const scenarios = useAsync(() => exporterClient.scenarios(), [], 15_000);
  const info = useAsync(() => exporterClient.servers().then((all) => all.find((s) => s.id === id)), [id]);
  const regions = useMemo(() => {
    const all = scenarios.data ? [...scenarios.data.history, ...scenarios.data.active] : [];
    const unique = new Map(all.map((s) => [s.id, s]));
    return scenarioRegions([...unique.values()], id);
  }, [scenarios.data, id]);

  const zoomOut = () => {
    const width = timeRange.to.valueOf() - timeRange.from.valueOf();
    const from = dateTime(timeRange.from.valueOf() - width / 2);
    const to = dateTime(timeRange.to.valueOf() + width / 2);
    setTimeRange({ from, to, raw: { from, to } });
  };

  return (
    <PluginPage>
      <div data-testid={testIds.server.container} className={styles.page}>
        <Stack direction="row" alignItems="center" justifyContent="space-between" wrap="wrap">
          <Stack direction="row" alignItems="center" gap={1}>
            <Link to={prefixRoute(ROUTES.Fleet)}>Fleet</Link>
            <span>/</span>
            <h2 className={styles.title}>{id}</h2>
            {info.data && <Badge text={info.data.role} color="blue" />}
            {info.data && (
              <span className={styles.muted}>
                {info.data.cores} cores · {(info.data.memoryBytes / 2 ** 30).toFixed(0)} GiB · {info.data.zone}
              </span>
            )}
          </Stack>
          <TimeRangePicker
            value={timeRange}
            onChange={setTimeRange}
            timeZone="browser"
            onChangeTimeZone={() => undefined}
            onMoveBackward={() => setTimeRange((r) => shiftRange(r, -1))}
            onMoveForward={() => setTimeRange((r) => shiftRange(r, 1))}
            onZoom={zoomOut}
          />
        </Stack>
        {info.error && (
          <Alert severity="error" title="Cannot load this server">
            {info.error.message}
          </Alert>
        )}
        <section data-testid={testIds.server.services} aria-label="Services">
          <Stack direction="row" gap={1} alignItems="center" wrap="wrap">
            <strong>Services</strong>
            {servicesError && <span className={styles.error}>{servicesError}</span>}
            {services?.length === 0 && <span className={styles.muted}>none reported</span>}
            {services?.map((s) => {
              const up = Number(s.value[1]) === 1;
              return (
                <Badge
                  key={s.metric.service ?? JSON.stringify(s.metric)}
                  text={`${s.metric.service ?? '?'} ${up ? 'up' : 'down'}`}
                  color={up ? 'green' : 'red'}
                  icon={up ? 'check' : 'exclamation-triangle'}
                />
              );
            })}
            {regions.length > 0 && (
              <span className={styles.muted}>
                {regions.length} scenario{regions.length > 1 ? 's' : ''} in history (shaded on the charts)
              </span>
            )}
          </Stack>
        </section>
        <div className={styles.grid}>
          {charts.map((c) => (
            <TimeSeriesChart
              key={c.spec.id}
              title={c.spec.title}
              queries={c.spec.queries}
              series={c.series}
              error={c.error}
              unit={c.spec.unit}
              min={c.spec.min}
              max={c.spec.max}
              timeRange={timeRange}
              regions={regions}
            />
          ))}
        </div>
      </div>
    </PluginPage>
  );
}

export default Server;

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  title: css({ margin: 0 }),
  muted: css({ color: theme.colors.text.secondary }),
  error: css({ color: theme.colors.error.text }),
  grid: css({
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(480px, 1fr))',
    gap: theme.spacing(2),
  }),
});
