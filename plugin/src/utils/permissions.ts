import { config } from '@grafana/runtime';

/**
 * canDo tells whether the signed-in user holds an RBAC action, to show or hide an action the proxy route would
 * refuse anyway. Grafana puts the user's permissions in its boot data; without them (older set-ups) an Editor
 * or Admin may, as the routes' reqRole says.
 */
export function canDo(action: string): boolean {
  const user = config.bootData?.user as
    { permissions?: Record<string, boolean>; orgRole?: string; isGrafanaAdmin?: boolean } | undefined;
  if (user?.permissions && Object.keys(user.permissions).length > 0) {
    return Boolean(user.permissions[action]);
  }
  return user?.orgRole === 'Editor' || user?.orgRole === 'Admin' || Boolean(user?.isGrafanaAdmin);
}

/** currentLogin is the signed-in user's login (a silence's `createdBy`). */
export function currentLogin(): string {
  return config.bootData?.user?.login || 'grafana';
}
