import type { ScenarioKind } from '../../api/types';

/** SCENARIO_KINDS describes each failure scenario the exporter can inject (issue 2's list, in its order). */
export const SCENARIO_KINDS: ReadonlyArray<{ kind: ScenarioKind; title: string; description: string }> = [
  {
    kind: 'cpu_spike',
    title: 'CPU spike',
    description: 'CPU usage jumps towards 100 %; load averages climb after it and latency follows.',
  },
  {
    kind: 'memory_leak',
    title: 'Memory leak',
    description: 'Used memory grows steadily until the scenario ends; swap starts to fill.',
  },
  {
    kind: 'disk_fill',
    title: 'Disk fill',
    description: 'A disk fills quickly (logs or a runaway job), pushing disk usage into warning and critical.',
  },
  {
    kind: 'network_saturation',
    title: 'Network saturation',
    description: 'Traffic saturates the interfaces: bytes and packets jump, with receive errors and transmit drops.',
  },
  {
    kind: 'service_crash',
    title: 'Service crash',
    description: "One of the server's services stops: its service_up goes to 0 and requests fail.",
  },
  {
    kind: 'latency_degradation',
    title: 'Latency degradation',
    description: 'Requests slow down: the HTTP latency histogram shifts right (p95/p99 rise) while CPU stays normal.',
  },
  {
    kind: 'cascading_failure',
    title: 'Cascading failure',
    description:
      'A slow database raises API latency, then web servers return 5xx: the failure spreads to other servers.',
  },
  {
    kind: 'server_down',
    title: 'Server down',
    description: 'The server stops answering: its scrape target fails and `up` becomes 0.',
  },
];

/** INTENSITY_RANGE bounds the intensity input: a fraction of the scenario's full effect. */
export const INTENSITY_RANGE = { min: 0.1, max: 1, step: 0.1, default: 0.8 } as const;

/** DURATION_DEFAULT_S is the form's default duration: 10 minutes, long enough to trip 5-minute alert rules. */
export const DURATION_DEFAULT_S = 600;
