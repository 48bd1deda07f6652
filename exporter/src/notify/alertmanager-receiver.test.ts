import { describe, expect, it } from 'vitest';
import { CONTRACT_TIMEOUT_MS, SECRET_PATH, runReceiverContract } from '../../test/receiver-contract.js';
import { AlertmanagerReceiver, alertsUrl } from './alertmanager-receiver.js';
import { Secret } from './secret.js';

runReceiverContract({
  name: 'alertmanager',
  create: (url) =>
    new AlertmanagerReceiver({
      type: 'alertmanager',
      name: 'contract',
      url: new Secret(url, 'ALERTMANAGER_URL'),
      matchers: [],
      sendResolved: true,
      timeoutMs: CONTRACT_TIMEOUT_MS,
      maxAlerts: 0,
      resendDelayMs: 60_000,
    }),
  path: `${SECRET_PATH}/api/v2/alerts`,
  checkPayload(req, n) {
    // Alertmanager API v2 postable alerts: exactly these five fields each.
    expect(req.body).toEqual(
      n.alerts.map((a) => ({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        generatorURL: a.generatorURL,
      })),
    );
  },
});

describe('alertsUrl', () => {
  it.each([
    ['http://am:9093', 'http://am:9093/api/v2/alerts'],
    ['http://am:9093/', 'http://am:9093/api/v2/alerts'],
    ['http://proxy/alertmanager', 'http://proxy/alertmanager/api/v2/alerts'],
  ])('%s → %s', (base, want) => {
    expect(alertsUrl(base)).toBe(want);
  });
});
