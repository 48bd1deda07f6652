import { expect } from 'vitest';
import { CONTRACT_TIMEOUT_MS, SECRET_PATH, runReceiverContract } from '../../test/receiver-contract.js';
import { DEFAULT_ROUTE } from './config.js';
import { Secret } from './secret.js';
import { WebhookReceiver } from './webhook-receiver.js';

runReceiverContract({
  name: 'webhook',
  create: (url) =>
    new WebhookReceiver({
      type: 'webhook',
      name: 'contract',
      url: new Secret(url, 'WEBHOOK_URL'),
      matchers: [],
      sendResolved: true,
      timeoutMs: CONTRACT_TIMEOUT_MS,
      maxAlerts: 0,
      ...DEFAULT_ROUTE,
    }),
  path: SECRET_PATH,
  checkPayload(req, n) {
    // Alertmanager's webhook payload, version 4, field for field (no extra fields: value stays ours).
    expect(req.body).toEqual({
      receiver: n.receiver,
      status: n.status,
      alerts: n.alerts.map(({ value: _value, ...a }) => a),
      groupLabels: n.groupLabels,
      commonLabels: n.commonLabels,
      commonAnnotations: n.commonAnnotations,
      externalURL: n.externalURL,
      version: '4',
      groupKey: n.groupKey,
      truncatedAlerts: 0,
    });
    expect(req.headers['user-agent']).toMatch(/^OpenManager-Exporter\//);
  },
});
