import {
  getFieldDisplayValues,
  type FieldConfigSource,
  type GrafanaTheme2,
  type InterpolateFunction,
  type PanelData,
} from '@grafana/data';
import type { TimeZone } from '@grafana/schema';

/** Cell is one series of the query result as the panel draws it. */
export interface Cell {
  key: string;
  name: string;
  value: number | null;
  text: string;
  color: string;
  labels: Record<string, string>;
}

/**
 * toCells reduces every numeric series to its last value and colours it with the panel's thresholds (field
 * config), naming each cell by `nameLabel` when the series has that label.
 */
export function toCells(args: {
  data: PanelData;
  fieldConfig: FieldConfigSource;
  nameLabel: string;
  theme: GrafanaTheme2;
  replaceVariables: InterpolateFunction;
  timeZone: TimeZone;
}): Cell[] {
  const values = getFieldDisplayValues({
    data: args.data.series,
    fieldConfig: args.fieldConfig,
    reduceOptions: { values: false, calcs: ['lastNotNull'] },
    replaceVariables: args.replaceVariables,
    theme: args.theme,
    timeZone: args.timeZone,
  });
  return values
    .filter((v) => v.display.numeric !== undefined)
    .map((v, i) => {
      const labels = (v.colIndex !== undefined ? v.view?.dataFrame.fields[v.colIndex]?.labels : undefined) ?? {};
      const name = (args.nameLabel && labels[args.nameLabel]) || v.display.title || `series ${i + 1}`;
      const numeric = Number.isFinite(v.display.numeric) ? v.display.numeric : null;
      return {
        key: `${name}#${i}`,
        name,
        value: numeric,
        text: `${v.display.prefix ?? ''}${v.display.text}${v.display.suffix ?? ''}`,
        color: v.display.color ?? args.theme.colors.text.secondary,
        labels,
      };
    });
}

/** cellLink fills the link template for one cell (values URL-encoded). */
export function cellLink(template: string, cell: Cell): string {
  if (!template) {
    return '';
  }
  return template.replace(/\$\{(name|value|labels\.([a-zA-Z_][a-zA-Z0-9_]*))\}/g, (_m, key: string, label?: string) => {
    if (key === 'name') {
      return encodeURIComponent(cell.name);
    }
    if (key === 'value') {
      return encodeURIComponent(cell.value === null ? '' : String(cell.value));
    }
    return encodeURIComponent((label && cell.labels[label]) || '');
  });
}
