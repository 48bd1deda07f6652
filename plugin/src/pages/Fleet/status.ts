import type { GrafanaTheme2 } from '@grafana/data';

import type { ServerStatus } from '../../api/types';

/** STATUS_ORDER ranks statuses worst first (sorting by status puts trouble at the top). */
export const STATUS_ORDER: Record<ServerStatus, number> = { down: 0, critical: 1, warning: 2, healthy: 3 };

/** STATUS_COLOR_NAMES are the Grafana palette names of each status (the colours of Grafana's own states). */
export const STATUS_COLOR_NAMES: Record<ServerStatus, string> = {
  healthy: 'green',
  warning: 'orange',
  critical: 'red',
  down: 'purple',
};

/** statusColor resolves a status to a theme colour. */
export function statusColor(theme: GrafanaTheme2, status: ServerStatus): string {
  return theme.visualization.getColorByName(STATUS_COLOR_NAMES[status]);
}
