/**
 * The Grafana provisioning in provisioning/ holds what Grafana reads from each file kind (apiVersion, names,
 * types, uids, required keys), every failure naming the file and the key; the data sources carry the seed's
 * settings; every data source uid a dashboard or an alert rule names is provisioned; and
 * provisioning/alerting/rules.yml is what `npm run gen:grafana-alerts` makes of rules/ today.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateGrafanaAlerts, OUTPUT_FILE, splitCondition } from '../scripts/gen-grafana-alerts.js';
import { REPO_ROOT } from '../scripts/stack/compose.js';

const PROVISIONING = join(REPO_ROOT, 'provisioning');
const DASHBOARDS = join(REPO_ROOT, 'plugin/src/dashboards');
const PLUGIN_ID = 'openmanager-fleet-app';

/** EXPRESSION_UID is Grafana's pseudo data source for server-side expressions. */
const EXPRESSION_UID = '__expr__';
/** UID_RE is what Grafana accepts as a uid: letters, digits, - and _, at most 40 characters. */
const UID_RE = /^[a-zA-Z0-9_-]{1,40}$/;
/** DURATION_RE is a Grafana/Prometheus duration such as 10s, 5m or 1h30m. */
const DURATION_RE = /^(\d+(ms|s|m|h|d|w|y))+$/;

type Obj = Record<string, unknown>;

/** Problems collects what is wrong, each message naming the file and the key path. */
class Problems {
  readonly list: string[] = [];
  constructor(private readonly file: string) {}
  add(path: string, message: string): void {
    this.list.push(`${this.file}: ${path}: ${message}`);
  }
  /** need checks that `obj[key]` exists and passes `ok`, and returns it. */
  need(obj: Obj, path: string, key: string, ok: (v: unknown) => boolean, what: string): unknown {
    const v = obj[key];
    if (v === undefined) this.add(`${path}.${key}`, `missing (Grafana needs ${what})`);
    else if (!ok(v)) this.add(`${path}.${key}`, `is ${JSON.stringify(v)}, expected ${what}`);
    return v;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isList = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0;

function yamlFiles(dir: string): string[] {
  return readdirSync(join(PROVISIONING, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(PROVISIONING, dir, f));
}

function load(file: string, p: Problems): Obj {
  const doc = parse(readFileSync(file, 'utf8')) as unknown;
  if (!isObj(doc)) {
    p.add('(document)', 'is not a YAML mapping');
    return {};
  }
  p.need(doc, '', 'apiVersion', (v) => v === 1, 'apiVersion: 1');
  return doc;
}

const datasourceUids = new Set<string>();
const contactPoints = new Set<string>();

/** CHECKS validate one provisioning folder's files; each returns its problems. */
const CHECKS: ReadonlyArray<readonly [string, (doc: Obj, p: Problems) => void]> = [
  [
    'datasources',
    (doc, p) => {
      const list = p.need(doc, '', 'datasources', isList, 'a list of data sources');
      for (const [i, ds] of (isList(list) ? list : []).entries()) {
        const at = `datasources[${i}]`;
        if (!isObj(ds)) {
          p.add(at, 'is not a mapping');
          continue;
        }
        p.need(ds, at, 'name', isString, 'a name');
        p.need(ds, at, 'type', (v) => v === 'prometheus', 'type prometheus');
        const uid = p.need(ds, at, 'uid', (v) => isString(v) && UID_RE.test(v), 'a fixed uid');
        if (isString(uid)) datasourceUids.add(uid);
        p.need(ds, at, 'url', isString, 'a URL');
        p.need(
          ds,
          at,
          'access',
          (v) => v === 'proxy',
          'access proxy (the browser never talks to the exporter)',
        );
        const jd = p.need(ds, at, 'jsonData', isObj, 'jsonData');
        if (isObj(jd)) {
          p.need(jd, `${at}.jsonData`, 'httpMethod', (v) => v === 'GET' || v === 'POST', 'GET or POST');
          p.need(jd, `${at}.jsonData`, 'manageAlerts', (v) => v === true, 'true');
          p.need(jd, `${at}.jsonData`, 'prometheusType', (v) => v === 'Prometheus', 'Prometheus');
          p.need(
            jd,
            `${at}.jsonData`,
            'prometheusVersion',
            (v) => v === '2.42.0',
            "2.42.0 (the buildinfo's)",
          );
          p.need(jd, `${at}.jsonData`, 'timeInterval', (v) => v === '15s', '15s (one exporter tick)');
        }
      }
    },
  ],
  [
    'plugins',
    (doc, p) => {
      const list = p.need(doc, '', 'apps', isList, 'a list of apps');
      for (const [i, app] of (isList(list) ? list : []).entries()) {
        const at = `apps[${i}]`;
        if (!isObj(app)) continue;
        p.need(app, at, 'type', (v) => v === PLUGIN_ID, PLUGIN_ID);
        p.need(app, at, 'disabled', (v) => v === false, 'false (the app enabled)');
        const jd = p.need(app, at, 'jsonData', isObj, 'jsonData');
        if (isObj(jd)) {
          p.need(jd, `${at}.jsonData`, 'exporterUrl', isString, "the exporter's URL");
          p.need(jd, `${at}.jsonData`, 'liveUrl', isString, 'the live WebSocket URL');
        }
        const sj = p.need(app, at, 'secureJsonData', isObj, 'secureJsonData');
        if (isObj(sj))
          p.need(
            sj,
            `${at}.secureJsonData`,
            'apiToken',
            (v) => v === '${API_TOKEN}',
            'the token from ${API_TOKEN}',
          );
      }
    },
  ],
  [
    'dashboards',
    (doc, p) => {
      const list = p.need(doc, '', 'providers', isList, 'a list of providers');
      for (const [i, pr] of (isList(list) ? list : []).entries()) {
        const at = `providers[${i}]`;
        if (!isObj(pr)) continue;
        p.need(pr, at, 'name', isString, 'a name');
        p.need(pr, at, 'type', (v) => v === 'file', 'type file');
        p.need(pr, at, 'folder', isString, 'a folder');
        const opts = p.need(pr, at, 'options', isObj, 'options');
        if (isObj(opts)) p.need(opts, `${at}.options`, 'path', isString, 'a path');
      }
    },
  ],
  [
    'alerting',
    (doc, p) => {
      for (const [i, cp] of ((doc.contactPoints as unknown[] | undefined) ?? []).entries()) {
        const at = `contactPoints[${i}]`;
        if (!isObj(cp)) continue;
        p.need(cp, at, 'orgId', (v) => v === 1, 'orgId 1');
        const name = p.need(cp, at, 'name', isString, 'a name');
        if (isString(name)) contactPoints.add(name);
        const receivers = p.need(cp, at, 'receivers', isList, 'receivers');
        for (const [j, r] of (isList(receivers) ? receivers : []).entries()) {
          if (!isObj(r)) continue;
          p.need(r, `${at}.receivers[${j}]`, 'uid', (v) => isString(v) && UID_RE.test(v), 'a uid');
          p.need(
            r,
            `${at}.receivers[${j}]`,
            'type',
            (v) => v === 'slack' || v === 'webhook',
            'slack or webhook',
          );
          const s = p.need(r, `${at}.receivers[${j}]`, 'settings', isObj, 'settings');
          if (isObj(s))
            p.need(
              s,
              `${at}.receivers[${j}].settings`,
              'url',
              (v) => /^\$\{\w+\}$/.test(String(v)),
              'a URL from an env var',
            );
        }
      }
      for (const [i, g] of ((doc.groups as unknown[] | undefined) ?? []).entries()) {
        const at = `groups[${i}]`;
        if (!isObj(g)) continue;
        p.need(g, at, 'orgId', (v) => v === 1, 'orgId 1');
        p.need(g, at, 'name', isString, 'a name');
        p.need(g, at, 'folder', isString, 'a folder');
        p.need(
          g,
          at,
          'interval',
          (v) => isString(v) && /^\d+s$/.test(v) && Number(v.slice(0, -1)) % 10 === 0,
          'a multiple of 10s',
        );
        const rules = p.need(g, at, 'rules', isList, 'rules');
        for (const [j, r] of (isList(rules) ? rules : []).entries()) {
          const rat = `${at}.rules[${j}]`;
          if (!isObj(r)) continue;
          p.need(
            r,
            rat,
            'uid',
            (v) => isString(v) && UID_RE.test(v),
            'a uid of at most 40 letters, digits, - or _',
          );
          p.need(r, rat, 'title', isString, 'a title');
          p.need(r, rat, 'for', (v) => isString(v) && DURATION_RE.test(v), 'a duration');
          p.need(
            r,
            rat,
            'noDataState',
            (v) => ['OK', 'NoData', 'Alerting', 'KeepLast'].includes(String(v)),
            'a no-data state',
          );
          p.need(
            r,
            rat,
            'execErrState',
            (v) => ['OK', 'Error', 'Alerting', 'KeepLast'].includes(String(v)),
            'an error state',
          );
          const data = p.need(r, rat, 'data', isList, 'queries');
          const refIds = new Set<string>();
          for (const [k, q] of (isList(data) ? data : []).entries()) {
            if (!isObj(q)) continue;
            const ref = p.need(q, `${rat}.data[${k}]`, 'refId', isString, 'a refId');
            if (isString(ref)) refIds.add(ref);
            p.need(
              q,
              `${rat}.data[${k}]`,
              'datasourceUid',
              (v) => v === EXPRESSION_UID || datasourceUids.has(String(v)),
              'a provisioned data source uid',
            );
            p.need(q, `${rat}.data[${k}]`, 'relativeTimeRange', isObj, 'relativeTimeRange');
            p.need(q, `${rat}.data[${k}]`, 'model', isObj, 'a model');
          }
          p.need(r, rat, 'condition', (v) => refIds.has(String(v)), 'the refId of one of its queries');
        }
      }
      for (const [i, pol] of ((doc.policies as unknown[] | undefined) ?? []).entries()) {
        const walk = (route: unknown, at: string): void => {
          if (!isObj(route)) return;
          p.need(route, at, 'receiver', (v) => contactPoints.has(String(v)), 'a provisioned contact point');
          for (const [j, child] of ((route.routes as unknown[] | undefined) ?? []).entries())
            walk(child, `${at}.routes[${j}]`);
        };
        if (isObj(pol)) p.need(pol, `policies[${i}]`, 'orgId', (v) => v === 1, 'orgId 1');
        walk(pol, `policies[${i}]`);
      }
    },
  ],
];

/** checkAll runs the checks in order (data sources and contact points first: later files refer to them). */
function checkAll(): string[] {
  const problems: string[] = [];
  for (const [dir, check] of CHECKS) {
    // Contact points before the policies that name them.
    const files = yamlFiles(dir).sort((a, b) => Number(a.includes('polic')) - Number(b.includes('polic')));
    if (files.length === 0) problems.push(`provisioning/${dir}/ has no YAML file`);
    for (const file of files) {
      const p = new Problems(relative(REPO_ROOT, file));
      check(load(file, p), p);
      problems.push(...p.list);
    }
  }
  return problems;
}

interface Dashboard {
  uid?: string;
  panels?: Array<{
    title?: string;
    datasource?: { uid?: string };
    targets?: Array<{ datasource?: { uid?: string } }>;
  }>;
  templating?: {
    list?: Array<{ name: string; type: string; current?: { value?: string }; datasource?: { uid?: string } }>;
  };
}

describe('Grafana provisioning', () => {
  const problems = checkAll();

  it('has every key Grafana reads, in every file', () => {
    expect(problems).toEqual([]);
  });

  it('provisions the two data sources and a plugin, dashboards, rules, contact points and a policy', () => {
    expect([...datasourceUids].sort()).toEqual(['openmanager', 'openmanager-prometheus']);
    expect([...contactPoints].sort()).toEqual(['OpenManager Slack', 'OpenManager webhook']);
  });

  it('provisions every data source uid a shipped dashboard names', () => {
    const missing: string[] = [];
    for (const f of readdirSync(DASHBOARDS).filter((x) => x.endsWith('.json'))) {
      const d = JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as Dashboard;
      const vars = d.templating?.list ?? [];
      const dsVars = new Map(
        vars.filter((v) => v.type === 'datasource').map((v) => [v.name, v.current?.value]),
      );
      const resolve = (uid: string | undefined): string | undefined => {
        const m = /^\$\{?(\w+)\}?$/.exec(uid ?? '');
        return m?.[1] !== undefined ? dsVars.get(m[1]) : uid;
      };
      const named = [
        ...(d.panels ?? []).flatMap((p) => [
          p.datasource?.uid,
          ...(p.targets ?? []).map((t) => t.datasource?.uid),
        ]),
        ...vars.map((v) => v.datasource?.uid),
      ].filter((u): u is string => u !== undefined);
      for (const uid of named) {
        const actual = resolve(uid);
        if (actual === undefined || !datasourceUids.has(actual))
          missing.push(`${f}: data source "${uid}" (${actual ?? 'no default'}) is not provisioned`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has provisioning/alerting/rules.yml up to date with rules/ (npm run gen:grafana-alerts)', async () => {
    const expected = await generateGrafanaAlerts();
    const actual = readFileSync(OUTPUT_FILE, 'utf8');
    if (actual !== expected)
      throw new Error(
        `${relative(REPO_ROOT, OUTPUT_FILE)} differs from rules/*.yml: run npm run gen:grafana-alerts`,
      );
  });

  it.each([
    ['server:x > 80', ['server:x'], '$A > 80'],
    ['max by (s) (x) == 0', ['max by (s) (x)'], '$A == 0'],
    ['a > 0.7 * 125000000 or b > 1', ['a', 'b'], '($A > 87500000) || ($B > 1)'],
    ['a > 100 and b > 100', ['a', 'b'], '($A > 100) && ($B > 100)'],
    ['a > 2.5 * b', ['a', '2.5 * b'], '$A > $B'],
    [
      '(a == 0) or (b unless on () absent(c))',
      ['(a == 0) or (b unless on () absent(c))'],
      'is_number($A) || is_nan($A) || is_inf($A)',
    ],
    ['a > on (x) b', ['a > on (x) b'], 'is_number($A) || is_nan($A) || is_inf($A)'],
  ])('splits %s into queries and a math condition', (expr, queries, math) => {
    expect(splitCondition(expr)).toEqual({ queries, math });
  });
});
