/** AlertListOptions are the OpenManager alerts panel's options. */
export interface AlertListOptions {
  /** severities keeps only these severities; empty = all. */
  severities?: string[];
  /** servers keeps only these servers: comma-separated ids or a dashboard variable (`$server`); empty = all. */
  servers: string;
  /** maxItems caps the rows shown (worst first). */
  maxItems: number;
  /** showResolved adds the alerts resolved within the dashboard's time range. */
  showResolved: boolean;
  /** serverLink is where a server name links; `${server}` is replaced (dashboard variables too). */
  serverLink: string;
}

/** DEFAULT_SERVER_LINK is the app's Server page. */
export const DEFAULT_SERVER_LINK = '/a/openmanager-fleet-app/server/${server}';
