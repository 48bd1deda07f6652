/**
 * GO_TEMPLATES plugs the Go text/template engine (template.ts) into the rule manager: rule labels and
 * annotations compile at load and expand per alert with `$labels`, `$value`, `$externalLabels`, `$externalURL`
 * and a `query` function that evaluates PromQL at the rule's evaluation time.
 */
import type { RuleTemplates } from './manager.js';
import { compileTemplate, expand, type CompiledTemplate } from './template.js';

/** GO_TEMPLATES is the rule manager's template language, as Prometheus's. */
export const GO_TEMPLATES: RuleTemplates<CompiledTemplate> = {
  compile: compileTemplate,
  expand: (t, data, opts) =>
    expand(
      t,
      {
        labels: data.labels,
        value: data.value,
        externalLabels: data.externalLabels,
        externalURL: opts.externalURL,
      },
      // opts.query itself, not a closure made per expansion (it takes the query only; the time it ignores).
      { query: opts.query, externalURL: opts.externalURL, timestamp: opts.timestamp },
    ),
};
