/** Simulator errors: one catalogue of stable codes, each with the HTTP status an API maps it to. */

/** SimulatorErrorCode is the stable code of a simulator error. */
export type SimulatorErrorCode =
  | 'FLEET_FILE_UNREADABLE'
  | 'FLEET_FILE_INVALID'
  | 'FLEET_OPTIONS_INVALID'
  | 'SCENARIO_INVALID'
  | 'SCENARIO_NOT_FOUND'
  | 'SCENARIO_STATE_INVALID';

/** SIMULATOR_ERROR_STATUS is the HTTP status for each code (bad input 400, unknown id 404, own state 500). */
export const SIMULATOR_ERROR_STATUS: Readonly<Record<SimulatorErrorCode, number>> = {
  FLEET_FILE_UNREADABLE: 500,
  FLEET_FILE_INVALID: 400,
  FLEET_OPTIONS_INVALID: 400,
  SCENARIO_INVALID: 400,
  SCENARIO_NOT_FOUND: 404,
  SCENARIO_STATE_INVALID: 500,
};

/**
 * SimulatorError is every error the simulator throws on purpose. `field` names the offending input field
 * (e.g. `intensity`, `servers[3].disks[0].size`) when there is one, so callers can answer "400: <field> …".
 */
export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** status is the HTTP status this error maps to. */
  get status(): number {
    return SIMULATOR_ERROR_STATUS[this.code];
  }
}
