/** The hub's public surface: what the app wires and what other modules import. */
export { createHub, DEFAULT_HUB_OPTIONS, Hub } from './hub.js';
export type { ClientInfo, HubInit, HubOptions, PublishResult, UpgradeServer } from './hub.js';
export { createStreamRouter } from './sse-endpoint.js';
export { createTicketRouter } from './ticket-endpoint.js';
export type { TicketRouterOptions } from './ticket-endpoint.js';
export { TicketBook, TICKET_TTL_MS, MAX_OUTSTANDING_TICKETS } from './tickets.js';
export type { StreamRouterOptions } from './sse-endpoint.js';
export { StatusPublisher, statusFingerprint, DEFAULT_STATUS_REFRESH_MS } from './status-publisher.js';
export type { StatusPublisherOptions } from './status-publisher.js';
export { HubError, HUB_API_ERRORS } from './hub-errors.js';
export type { HubErrorKind } from './hub-errors.js';
export * from '../contract/hub-protocol.js';
