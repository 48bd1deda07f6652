/**
 * Secret holds a credential (a webhook URL whose path is the credential, an API key) so that it cannot reach a
 * log line or an API response by accident: JSON, `util.inspect` and string conversion all show a placeholder,
 * and only `reveal()` — called at the one place a request is built — gives the value.
 */
import { inspect } from 'node:util';

/** REDACTED is what a Secret shows instead of its value. */
export const REDACTED = '<secret>';

/** Secret wraps one credential; `source` names where it came from (an env var) for error messages. */
export class Secret {
  readonly #value: string;

  constructor(
    value: string,
    /** source is the env var the value was read from: safe to show, and what the user should change. */
    readonly source: string,
  ) {
    this.#value = value;
  }

  /** reveal returns the credential; call it only to build the request that needs it. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * scrub removes every appearance of the secrets' values (and of a URL secret's path and query, where a webhook
 * keeps its token) from `text`: for error messages that quote a library's or the network stack's words.
 */
export function scrub(text: string, secrets: readonly Secret[]): string {
  let out = text;
  for (const s of secrets) {
    const v = s.reveal();
    const parts = [v];
    try {
      const u = new URL(v);
      if (u.pathname.length > 1) parts.push(u.pathname);
      if (u.search) parts.push(u.search);
      if (u.password) parts.push(u.password);
    } catch {
      // Not a URL (an API key): the whole value is enough.
    }
    for (const p of parts) if (p.length >= 4) out = out.split(p).join(REDACTED);
  }
  return out;
}
