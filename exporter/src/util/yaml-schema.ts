/**
 * parseYamlAs parses a YAML configuration text and validates it with a zod schema, reporting the first
 * problem where a user can find it: the line and column of a YAML syntax error, or the line and field path of
 * the first value the schema refuses.
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

/** Fail reports a problem: `where` is `:line:col`, or `:line (field.path)`, to append to the file's name. */
export type Fail = (where: string, problem: string) => never;

/** parseYamlAs returns the validated document, or calls `fail` (which throws) with the first problem. */
export function parseYamlAs<T>(text: string, schema: z.ZodType<T>, fail: Fail): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    fail(`:${pos.line}:${pos.col}`, `not valid YAML (${first.message.split('\n')[0] ?? ''})`);
  }
  const raw = (doc.toJS() ?? {}) as unknown;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  const node =
    path.length > 0
      ? doc.getIn(
          path.map(String).map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
          true,
        )
      : undefined;
  const line = isNode(node) && node.range ? `:${lines.linePos(node.range[0]).line}` : '';
  return fail(`${line} (${path.join('.') || 'top level'})`, issue?.message ?? 'invalid');
}
