// The RBAC objects in memory, as the authorizer reads them on every request: the server lists the
// four kinds once and feeds every watch event here, so authorizing never touches the store. The
// cache indexes RoleBindings by namespace and roles by name; it performs no I/O.

import type { KubeObject } from '../resources/types.ts';
import { RBAC_GROUP } from './rbac.ts';
import type { RbacSource, Role, RoleBinding } from './rbac.ts';

const KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

export type RbacEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class RbacCache implements RbacSource {
  private readonly clusterRoleMap = new Map<string, Role>();
  private readonly roleMap = new Map<string, Role>(); // "<ns>/<name>"
  private readonly clusterBindingMap = new Map<string, RoleBinding>();
  private readonly bindingsByNamespace = new Map<string, Map<string, RoleBinding>>();
  private clusterBindingList: RoleBinding[] | undefined;

  /** Replaces everything (after a list, or a watch that had to restart). */
  reset(objects: readonly KubeObject[]): void {
    this.clusterRoleMap.clear();
    this.roleMap.clear();
    this.clusterBindingMap.clear();
    this.bindingsByNamespace.clear();
    this.clusterBindingList = undefined;
    for (const object of objects) this.apply('ADDED', object);
  }

  /** One watch event; objects of other kinds or groups are ignored. */
  apply(type: RbacEventType, object: KubeObject): void {
    if (!KINDS.has(object.kind) || object.apiVersion !== `${RBAC_GROUP}/v1`) return;
    const name = object.metadata.name ?? '';
    const ns = object.metadata.namespace ?? '';
    const remove = type === 'DELETED';
    switch (object.kind) {
      case 'ClusterRole':
        if (remove) this.clusterRoleMap.delete(name);
        else this.clusterRoleMap.set(name, object as Role);
        break;
      case 'Role':
        if (remove) this.roleMap.delete(`${ns}/${name}`);
        else this.roleMap.set(`${ns}/${name}`, object as Role);
        break;
      case 'ClusterRoleBinding':
        if (remove) this.clusterBindingMap.delete(name);
        else this.clusterBindingMap.set(name, object as RoleBinding);
        this.clusterBindingList = undefined;
        break;
      case 'RoleBinding': {
        let inNs = this.bindingsByNamespace.get(ns);
        if (remove) {
          inNs?.delete(name);
          if (inNs?.size === 0) this.bindingsByNamespace.delete(ns);
        } else {
          if (inNs === undefined) this.bindingsByNamespace.set(ns, (inNs = new Map()));
          inNs.set(name, object as RoleBinding);
        }
        break;
      }
    }
  }

  clusterRoleBindings(): readonly RoleBinding[] {
    this.clusterBindingList ??= [...this.clusterBindingMap.values()];
    return this.clusterBindingList;
  }

  roleBindings(namespace: string): readonly RoleBinding[] {
    return [...(this.bindingsByNamespace.get(namespace)?.values() ?? [])];
  }

  clusterRole(name: string): Role | undefined {
    return this.clusterRoleMap.get(name);
  }

  role(namespace: string, name: string): Role | undefined {
    return this.roleMap.get(`${namespace}/${name}`);
  }

  get size(): number {
    let bindings = 0;
    for (const m of this.bindingsByNamespace.values()) bindings += m.size;
    return this.clusterRoleMap.size + this.roleMap.size + this.clusterBindingMap.size + bindings;
  }
}
