/** Parsing of client → server messages into a typed message or a stable protocol error code. */
import {
  CLIENT_MESSAGE_TYPES,
  clientMessageSchema,
  isChannel,
  type ClientMessage,
  type HubErrorCode,
} from '../contract/hub-protocol.js';

/** ParseResult is a valid client message or the error to send back. */
export type ParseResult =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly code: HubErrorCode; readonly message: string };

const fail = (code: HubErrorCode, message: string): ParseResult => ({ ok: false, code, message });

/**
 * parseClientMessage validates one text message. The checks run from cheap to precise so each failure gets
 * the most specific code: JSON, then `type`, then unknown channels, then the full schema.
 */
export function parseClientMessage(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail('invalid_json', `Message is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('invalid_message', 'A message must be a JSON object with a string `type`.');
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') return fail('invalid_message', 'A message must have a string `type`.');
  if (!(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail(
      'unknown_type',
      `Unknown message type ${JSON.stringify(type).slice(0, 80)}; expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}.`,
    );
  }
  const channels = (raw as { channels?: unknown }).channels;
  if (Array.isArray(channels)) {
    const unknown = channels.filter((c) => typeof c === 'string' && !isChannel(c));
    if (unknown.length > 0) {
      return fail('unknown_channel', `Unknown channel(s) ${JSON.stringify(unknown).slice(0, 200)}.`);
    }
  }
  const parsed = clientMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return fail('invalid_message', `Invalid ${type} message: ${issues}.`);
  }
  return { ok: true, message: parsed.data };
}
