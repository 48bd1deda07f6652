/**
 * Checks the built plugin (dist/, made by `npm run build`, which `npm test` runs first) the way Grafana reads
 * it: the essentials a plugin validator would flag. It fails, not skips, when dist/ is missing.
 */
import fs from 'fs';
import path from 'path';

const DIST = path.resolve(__dirname, '..', 'dist');

function readJson(file: string): Record<string, any> {
  const full = path.join(DIST, file);
  if (!fs.existsSync(full)) {
    throw new Error(`${full} is missing: run \`npm run build -w plugin\` before the tests (npm test does)`);
  }
  return JSON.parse(fs.readFileSync(full, 'utf8'));
}

describe('dist/plugin.json', () => {
  const app = readJson('plugin.json');
  const includes: Array<Record<string, string>> = app.includes;

  test('is the openmanager-fleet-app app plugin with a version and date filled in', () => {
    expect(app.id).toBe('openmanager-fleet-app');
    expect(app.type).toBe('app');
    expect(app.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(app.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(fs.existsSync(path.join(DIST, 'module.js'))).toBe(true);
  });

  test.each([['small'], ['large']])('its %s logo exists', (size) => {
    expect(fs.existsSync(path.join(DIST, app.info.logos[size]))).toBe(true);
  });

  test.each([
    ['page', '/a/openmanager-fleet-app/fleet'],
    ['page', '/a/openmanager-fleet-app/coverage'],
    ['page', '/a/openmanager-fleet-app/drills'],
    ['page', '/a/openmanager-fleet-app/scenarios'],
    ['page', '/a/openmanager-fleet-app/alerts'],
    ['page', '/a/openmanager-fleet-app/analysis'],
    ['page', '/plugins/openmanager-fleet-app'],
    ['panel', 'panels/fleet-status'],
    ['panel', 'panels/alert-list'],
    ['dashboard', 'dashboards/fleet-overview.json'],
    ['dashboard', 'dashboards/server-detail.json'],
  ])('includes a %s at %s', (type, p) => {
    expect(includes).toEqual(expect.arrayContaining([expect.objectContaining({ type, path: p })]));
  });

  test('every route names its method and role, and only the routes that need a secret carry one', () => {
    const routes: Array<Record<string, any>> = app.routes;
    const summary = routes.map((r) => [
      r.method,
      r.path,
      r.reqRole,
      (r.headers ?? []).map((h: Record<string, string>) => `${h.name}: ${h.content}`).join(),
    ]);
    expect(summary).toEqual([
      ['POST', 'api/scenarios', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['DELETE', 'api/scenarios', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['POST', 'api/silences', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['DELETE', 'api/silences', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['POST', 'api/coverage', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['POST', 'api/drills', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['DELETE', 'api/drills', 'Editor', 'Authorization: Bearer {{ .SecureJsonData.apiToken }}'],
      ['POST', 'api/hub/ticket', 'Viewer', 'Authorization: Bearer {{ .SecureJsonData.hubToken }}'],
      ['GET', 'api', 'Viewer', ''],
      ['GET', 'healthz', 'Viewer', ''],
    ]);
    for (const r of routes) {
      expect(r.url).toMatch(/^\{\{ \.JsonData\.exporterUrl \}\}\//);
    }
  });

  test('every route is guarded by an RBAC action the app declares, granted to the role the route names', () => {
    const roles: Array<{ role: { permissions: Array<{ action: string }> }; grants: string[] }> = app.roles;
    const grantOf = new Map(roles.flatMap((r) => r.role.permissions.map((p) => [p.action, r.grants] as const)));
    for (const r of app.routes as Array<Record<string, string>>) {
      expect(r.reqAction).toMatch(/^openmanager-fleet-app\.[a-z]+:(read|write)$/);
      expect(grantOf.get(r.reqAction as string)).toEqual([r.reqRole]);
    }
  });

  test('every included dashboard is reachable from the app navigation by its uid', () => {
    for (const inc of includes.filter((i) => i.type === 'dashboard')) {
      const dash = readJson(inc.path as string);
      expect(inc.uid).toBe(dash.uid);
      expect(inc.addToNav).toBe(true);
    }
  });

  test('screenshots are PNG files shipped with the plugin, one per main page', () => {
    const shots: Array<{ name: string; path: string }> = app.info.screenshots;
    expect(shots.map((s) => s.name)).toEqual(['Fleet', 'Server', 'Analysis', 'Alerts']);
    const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    for (const shot of shots) {
      const file = path.join(DIST, shot.path);
      expect(fs.existsSync(file)).toBe(true);
      const bytes = fs.readFileSync(file);
      expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      // A real page, not a placeholder: at least as wide as a desktop browser (the harness renders at 1400 px).
      expect(bytes.readUInt32BE(16)).toBeGreaterThanOrEqual(1280);
    }
  });

  test('info links are filled', () => {
    expect(app.info.links.length).toBeGreaterThan(0);
    for (const link of app.info.links) {
      expect(link.url).toMatch(/^https:\/\//);
    }
  });

  test('every included dashboard is a file with a title and panels', () => {
    for (const inc of includes.filter((i) => i.type === 'dashboard')) {
      const dash = readJson(inc.path as string);
      expect(dash.title).toBe(inc.name);
      expect(dash.panels.length).toBeGreaterThan(0);
    }
  });
});

describe.each([
  ['fleet-status', 'openmanager-fleetstatus-panel'],
  ['alert-list', 'openmanager-alertlist-panel'],
])('dist/panels/%s', (dir, id) => {
  const panel = readJson(`panels/${dir}/plugin.json`);

  test('is a panel plugin with its module and logos', () => {
    expect(panel.type).toBe('panel');
    expect(panel.id).toBe(id);
    expect(fs.existsSync(path.join(DIST, `panels/${dir}/module.js`))).toBe(true);
    expect(fs.existsSync(path.join(DIST, `panels/${dir}`, panel.info.logos.small))).toBe(true);
    expect(fs.existsSync(path.join(DIST, `panels/${dir}`, panel.info.logos.large))).toBe(true);
  });
});

test('the fleet dashboard shows the OpenManager alerts panel', () => {
  const dash = readJson('dashboards/fleet-overview.json');
  expect(dash.panels.map((p: { type: string }) => p.type)).toContain('openmanager-alertlist-panel');
});
