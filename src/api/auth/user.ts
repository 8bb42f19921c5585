// Who a request comes from, once authenticated. The shape of Kubernetes' user.Info, so RBAC
// subjects (User, Group, ServiceAccount) map onto it the way they do in Kubernetes.

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

/** Every authenticated user is in this group (Kubernetes adds it the same way). */
export const GROUP_AUTHENTICATED = 'system:authenticated';
/** The superuser group: bound to cluster-admin, and allowed everything even without that binding. */
export const GROUP_MASTERS = 'system:masters';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';

/** The user name a ServiceAccount's token authenticates as. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** A copy with `system:authenticated` added once (the authenticator's last step). */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  const groups = user.groups.includes(GROUP_AUTHENTICATED) ? [...user.groups] : [...user.groups, GROUP_AUTHENTICATED];
  return user.uid === undefined ? { username: user.username, groups } : { username: user.username, uid: user.uid, groups };
}
