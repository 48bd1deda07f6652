/** FleetStatusOptions are the Fleet status panel's options (colours and thresholds come from field config). */
export interface FleetStatusOptions {
  /** nameLabel is the series label shown as each cell's name (e.g. `server`); empty = the series' display name. */
  nameLabel: string;
  /** shape draws square tiles or a honeycomb. */
  shape: 'tiles' | 'honeycomb';
  /** cellSize is a cell's width in px. */
  cellSize: number;
  /** showValue prints the value under the name. */
  showValue: boolean;
  /** linkTemplate is where a click goes; `${name}`, `${value}` and `${labels.<label>}` are replaced. */
  linkTemplate: string;
}
