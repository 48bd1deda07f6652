/**
 * Low-level pieces of the two exposition formats the exporter serves: Prometheus text 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/) and OpenMetrics 1.0
 * (https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md):
 * escaping, number formatting, content types and Accept / Accept-Encoding negotiation.
 */

/** ExpositionFormat names a wire format. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** CONTENT_TYPES are the Content-Type headers of each format, as Prometheus expects them. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** OPENMETRICS_EOF ends every OpenMetrics exposition. */
export const OPENMETRICS_EOF = '# EOF\n';

/** formatValue renders a sample value as Prometheus does: `+Inf`, `-Inf`, `NaN`, else the shortest round-trip form. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** escapeLabelValue escapes a label value for both formats: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : v;
}

/** escapeHelp escapes HELP text: text 0.0.4 escapes backslash and line feed; OpenMetrics also double quotes. */
export function escapeHelp(help: string, format: ExpositionFormat): string {
  const re = format === 'openmetrics' ? /[\\"\n]/g : /[\\\n]/g;
  return help.replace(re, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** labelString renders `{a="x",b="y"}` (empty string for no labels), skipping `__name__` and empty values. */
export function labelString(labels: Readonly<Record<string, string | number | undefined>>): string {
  let out = '';
  for (const [name, raw] of Object.entries(labels)) {
    if (name === '__name__') continue;
    const value = typeof raw === 'number' ? formatValue(raw) : (raw ?? '');
    if (value === '') continue;
    out += `${out ? ',' : ''}${name}="${escapeLabelValue(value)}"`;
  }
  return out ? `{${out}}` : '';
}

interface MediaRange {
  readonly type: string;
  readonly q: number;
}

function parseAccept(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    return { type, q: Number.isFinite(q) ? q : 0 };
  });
}

/**
 * negotiateFormat picks OpenMetrics when the client ranks `application/openmetrics-text` at least as high as
 * text/plain (Prometheus 2.x sends it first with q=1, text/plain q=0.5), else text 0.0.4.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'text';
  let om = 0;
  let text = 0;
  for (const { type, q } of parseAccept(accept)) {
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'text';
}

/** acceptsGzip says whether an Accept-Encoding header allows gzip (present and q > 0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return parseAccept(acceptEncoding).some(({ type, q }) => (type === 'gzip' || type === '*') && q > 0);
}
