/**
 * The fleet's exposition cache. The layout is fixed, so every series' `name{labels} ` prefix and every
 * family's HELP/TYPE header are built once; each tick then renders the frame's values into bodies that any
 * number of scrapers share. The combined text body is rendered eagerly at `update()` (the format Prometheus
 * scrapes most); OpenMetrics, per-server (`/probe`) bodies and their gzip variants are rendered on first
 * request and cached until the next frame, so concurrent scrapes of one frame never render twice.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { SCENARIO_ACTIVE_FAMILY } from '../simulator/layout.js';
import { SERVER_META_FAMILIES, serverMetaLabels, serverMetaValues } from '../simulator/server-meta.js';
import type { FleetFrame, FleetLayout } from '../simulator/types.js';
import { escapeHelp, formatValue, labelString, type ExpositionFormat } from './text-format.js';

const gzipAsync = promisify(gzipCallback);

/** MAX_VALUE_CHARS is the longest text formatValue produces: `-1.2345678901234567e-308` is 24 ASCII characters. */
const MAX_VALUE_CHARS = 24;
const NEWLINE = 0x0a;
/** ZERO is the ASCII code of the digit 0. */
const ZERO = 0x30;

/** Body is one rendered exposition: the bytes and how many series it holds. */
export interface Body {
  readonly bytes: Buffer;
  readonly series: number;
}

/** RenderKind names what a render produced, for the render counters tests and metrics read. */
export type RenderKind = 'text' | 'openmetrics' | 'gzip';

/** ALL_SERVERS selects the combined body (every server that is up) instead of one server's. */
export const ALL_SERVERS = -1;

interface FrameCache {
  readonly frame: FleetFrame;
  readonly bodies: Map<string, Body>;
  readonly gzips: Map<string, Promise<Buffer>>;
}

/** FleetExposition renders FleetFrames of one FleetLayout and caches the bodies per frame. */
export class FleetExposition {
  /** renders counts bodies actually rendered, by kind (a cache hit renders nothing). */
  readonly renders: Record<RenderKind, number> = { text: 0, openmetrics: 0, gzip: 0 };
  /** prefixBytes holds every series' `name{labels} ` (UTF-8) back to back: series k is [prefixAt[k], prefixAt[k+1]). */
  private readonly prefixBytes: Buffer;
  private readonly prefixAt: Int32Array;
  private readonly headers: Record<ExpositionFormat, Buffer[]>;
  /** ranges[(server * families + family) * 2 + 0|1] = [first, end) of that server's series of that family. */
  private readonly ranges: Int32Array;
  private readonly familyCount: number;
  /** truthFamily is the index of the scenario ground-truth family (-1 when the layout has none). */
  private readonly truthFamily: number;
  private readonly serverIndex = new Map<string, number>();
  /** metaPrefixes[server][m]: the `name{labels} ` of server's meta series m (server-meta.ts). */
  private readonly metaPrefixes: (readonly Buffer[])[];
  private readonly metaHeaders: Record<ExpositionFormat, Buffer[]>;
  private current: FrameCache | undefined;

  constructor(readonly layout: FleetLayout) {
    this.familyCount = layout.families.length;
    this.truthFamily = layout.families.findIndex((f) => f.name === SCENARIO_ACTIVE_FAMILY);
    const prefixes = layout.series.map((s) =>
      Buffer.from(`${s.labels.__name__ ?? ''}${labelString(s.labels)} `),
    );
    this.prefixAt = new Int32Array(prefixes.length + 1);
    prefixes.forEach((b, k) => (this.prefixAt[k + 1] = (this.prefixAt[k] ?? 0) + b.length));
    this.prefixBytes = Buffer.concat(prefixes);
    this.headers = {
      text: layout.families.map((f) => Buffer.from(familyHeader(f, 'text'))),
      openmetrics: layout.families.map((f) => Buffer.from(familyHeader(f, 'openmetrics'))),
    };
    this.metaPrefixes = layout.servers.map((srv) =>
      serverMetaLabels(srv).map((l) => Buffer.from(`${l.__name__ ?? ''}${labelString(l)} `)),
    );
    this.metaHeaders = {
      text: SERVER_META_FAMILIES.map((f) => Buffer.from(familyHeader(f, 'text'))),
      openmetrics: SERVER_META_FAMILIES.map((f) => Buffer.from(familyHeader(f, 'openmetrics'))),
    };
    const F = this.familyCount;
    this.ranges = new Int32Array(layout.servers.length * F * 2);
    layout.servers.forEach((srv, i) => this.serverIndex.set(srv.id, i));
    layout.serverSeries.forEach(([first, end], i) => {
      for (let k = first; k < end; k++) {
        const f = layout.series[k]?.family ?? 0;
        const at = (i * F + f) * 2;
        if (this.ranges[at + 1] === 0) this.ranges[at] = k;
        this.ranges[at + 1] = k + 1;
      }
    });
  }

  /** update makes `frame` the current one and renders the combined text body. */
  update(frame: FleetFrame): void {
    if (frame.values.length !== this.layout.series.length) {
      throw new Error(
        `frame has ${frame.values.length} values, layout has ${this.layout.series.length} series`,
      );
    }
    this.current = { frame, bodies: new Map(), gzips: new Map() };
    this.body(ALL_SERVERS, 'text');
  }

  /** frame is the current frame, if any tick has happened. */
  get frame(): FleetFrame | undefined {
    return this.current?.frame;
  }

  /** indexOf returns a server's index in the layout, or -1 for an unknown id. */
  indexOf(id: string): number {
    return this.serverIndex.get(id) ?? -1;
  }

  /** isUp says whether a server answers at the current frame. */
  isUp(server: number): boolean {
    return this.current?.frame.summaries[server]?.up === true;
  }

  /**
   * body returns the current frame's exposition for one server (or ALL_SERVERS: every server that is up).
   * OpenMetrics bodies here have no `# EOF` line, so callers can append more families; add OPENMETRICS_EOF.
   * Throws when no frame exists yet.
   */
  body(server: number, format: ExpositionFormat): Body {
    const cache = this.requireCache();
    const key = `${server}:${format}`;
    let body = cache.bodies.get(key);
    if (!body) {
      body = this.render(cache.frame, server, format);
      this.renders[format]++;
      cache.bodies.set(key, body);
    }
    return body;
  }

  /** gzipBody returns the gzip of `body(server, format)`, compressed once per frame however many ask at once. */
  gzipBody(server: number, format: ExpositionFormat): Promise<Buffer> {
    const cache = this.requireCache();
    const key = `${server}:${format}`;
    let gz = cache.gzips.get(key);
    if (!gz) {
      const { bytes } = this.body(server, format);
      this.renders.gzip++;
      gz = gzipAsync(bytes);
      cache.gzips.set(key, gz);
    }
    return gz;
  }

  private requireCache(): FrameCache {
    if (!this.current) throw new Error('no frame rendered yet');
    return this.current;
  }

  /**
   * render writes one body into a single preallocated Buffer: the static bytes (headers, series prefixes) are
   * encoded once per layout and copied; only the values are formatted, their ASCII copied char by char.
   * Measured here at 1,000 servers this is ~2.5× faster than appending strings (whose ropes the GC must copy)
   * and than Buffer.write per value (a native call per sample).
   */
  private render(frame: FleetFrame, server: number, format: ExpositionFormat): Body {
    const F = this.familyCount;
    const servers =
      server === ALL_SERVERS ? [...frame.summaries.keys()].filter((i) => frame.summaries[i]?.up) : [server];
    // Scenario ground truth comes from the simulator, not the server: every server's, the down ones included.
    const truthServers = server === ALL_SERVERS ? [...frame.summaries.keys()] : servers;
    const truthFamily = this.truthFamily;
    const { prefixBytes, prefixAt, ranges } = this;
    const values = frame.values;
    const headers = this.headers[format];
    let size = 0;
    for (const h of headers) size += h.length;
    for (const i of servers) {
      const [first, end] = this.layout.serverSeries[i] ?? [0, 0];
      size += (prefixAt[end] ?? 0) - (prefixAt[first] ?? 0) + (end - first) * (MAX_VALUE_CHARS + 1);
    }
    for (const i of truthServers) {
      if (frame.summaries[i]?.up === true || truthFamily < 0) continue;
      const at = (i * F + truthFamily) * 2;
      const [first, end] = [ranges[at] ?? 0, ranges[at + 1] ?? 0];
      size += (prefixAt[end] ?? 0) - (prefixAt[first] ?? 0) + (end - first) * (MAX_VALUE_CHARS + 1);
    }
    // The meta series (server up, info) cover every server, the down ones included (value 0 for up).
    const metaServers = server === ALL_SERVERS ? [...frame.summaries.keys()] : [server];
    for (const h of this.metaHeaders[format]) size += h.length;
    for (const i of metaServers) for (const p of this.metaPrefixes[i] ?? []) size += p.length + 2;
    const out = Buffer.allocUnsafe(size);
    let pos = 0;
    let series = 0;
    for (let f = 0; f < F; f++) {
      const headerAt = pos;
      const header = headers[f];
      if (header) pos += header.copy(out, pos);
      const bodyAt = pos;
      for (const i of f === truthFamily ? truthServers : servers) {
        const at = (i * F + f) * 2;
        const end = ranges[at + 1] ?? 0;
        for (let k = ranges[at] ?? 0; k < end; k++) {
          pos += prefixBytes.copy(out, pos, prefixAt[k], prefixAt[k + 1]);
          const x = values[k] ?? Number.NaN;
          if (x >= 0 && x < MAX_FAST_INTEGER && Math.floor(x) === x) {
            pos = writeDigits(out, pos, x);
          } else {
            const v = formatValue(x);
            for (let c = 0; c < v.length; c++) out[pos++] = v.charCodeAt(c);
          }
          out[pos++] = NEWLINE;
          series++;
        }
      }
      // A family with no series here (all its servers down, or a service this server lacks) gets no header.
      if (pos === bodyAt) pos = headerAt;
    }
    this.metaHeaders[format].forEach((header, m) => {
      pos += header.copy(out, pos);
      for (const i of metaServers) {
        pos += this.metaPrefixes[i]?.[m]?.copy(out, pos) ?? 0;
        out[pos++] = ZERO + (serverMetaValues(frame.summaries[i])[m] ?? 0);
        out[pos++] = NEWLINE;
        series++;
      }
    });
    return { bytes: out.subarray(0, pos), series };
  }
}

/**
 * MAX_FAST_INTEGER bounds the integers written digit by digit: below 1e15 every integer double is exact and
 * String() prints it as plain digits, so both paths give the same bytes.
 */
const MAX_FAST_INTEGER = 1e15;

/**
 * writeDigits writes a non-negative integer's decimal digits at `pos` and returns the end. Counters, byte
 * gauges and bucket counts are most series: this skips a string allocation per sample on the hot path.
 */
export function writeDigits(out: Buffer, pos: number, x: number): number {
  let digits = 1;
  for (let p = 10; p <= x; p *= 10) digits++;
  const end = pos + digits;
  for (let i = end - 1; i >= pos; i--) {
    const q = Math.floor(x / 10);
    out[i] = ZERO + (x - q * 10);
    x = q;
  }
  return end;
}

/** familyHeader is a family's HELP/TYPE (and OpenMetrics UNIT) lines in one format. */
function familyHeader(
  f: { readonly name: string; readonly help: string; readonly type: string; readonly unit: string },
  format: ExpositionFormat,
): string {
  // Text 0.0.4 names a counter family by its sample name (`x_total`); OpenMetrics by the name without it.
  const name = format === 'text' && f.type === 'counter' ? `${f.name}_total` : f.name;
  let out = `# HELP ${name} ${escapeHelp(f.help, format)}\n# TYPE ${name} ${f.type}\n`;
  // OpenMetrics requires a family with a UNIT to end in `_<unit>`; declare it only then.
  if (format === 'openmetrics' && f.unit !== '' && f.name.endsWith(`_${f.unit}`)) {
    out += `# UNIT ${name} ${f.unit}\n`;
  }
  return out;
}
