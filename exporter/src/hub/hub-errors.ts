/**
 * Typed errors the hub's own API throws to its caller (the app), in the exporter's one catalogue style
 * (errors.ts `defineError`): a stable code, a status should one reach a client, a message saying what to
 * change. Wire errors sent to hub clients are the contract's (contract/hub-protocol.ts HUB_ERROR_CODES).
 */
import { ExporterError, defineError } from '../errors.js';

/** HUB_API_ERRORS is the catalogue of HubError codes; all are the caller's programming errors (500). */
export const HUB_API_ERRORS = {
  invalid_payload: defineError(
    'invalid_payload',
    500,
    (detail: string) =>
      `The published data does not match the channel schema (contract/hub-protocol.ts). ${detail}`,
  ),
  unknown_channel: defineError(
    'unknown_channel',
    500,
    (detail: string) => `The channel is not one of the hub channels (CHANNELS). ${detail}`,
  ),
  hub_closed: defineError(
    'hub_closed',
    500,
    (detail: string) => `The hub is closed; create a new one. ${detail}`,
  ),
  invalid_options: defineError(
    'invalid_options',
    500,
    (detail: string) => `A hub option is out of range. ${detail}`,
  ),
} as const;

/** HubErrorKind is a stable code of a HubError. */
export type HubErrorKind = keyof typeof HUB_API_ERRORS;

/** HubError is an error of the hub's API with a stable `code` (one of HUB_API_ERRORS). */
export class HubError extends ExporterError {
  constructor(code: HubErrorKind, detail: string) {
    const e = HUB_API_ERRORS[code](detail);
    super(e.code, e.status, e.message.trim());
    this.name = 'HubError';
  }
}
