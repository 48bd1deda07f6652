/** Typed errors the hub's own API throws to its caller (the app); wire errors are in protocol.ts. */

/** HUB_API_ERRORS is the catalogue of HubError codes with what to change. */
export const HUB_API_ERRORS = {
  invalid_payload: 'The published data does not match the channel schema (see hub/protocol.ts).',
  unknown_channel: 'The channel is not one of the hub channels (protocol.ts CHANNELS).',
  hub_closed: 'The hub is closed; create a new one.',
  invalid_options: 'A hub option is out of range.',
} as const;

/** HubErrorKind is a stable code of a HubError. */
export type HubErrorKind = keyof typeof HUB_API_ERRORS;

/** HubError is an error of the hub's API with a stable `code`. */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorKind,
    detail: string,
  ) {
    super(`${HUB_API_ERRORS[code]} ${detail}`.trim());
    this.name = 'HubError';
  }
}
