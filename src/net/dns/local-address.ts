// The cluster DNS address (the kube-dns Service's ClusterIP) is an address of every board itself,
// on `lo` with Bramble's own label: a pod's query to it is delivered to the board it runs on, no
// DNAT and no other board involved (what NodeLocal DNSCache does with a dummy interface; not every
// kernel has the dummy module, this machine's does not, while `lo` is always there). Only
// addresses carrying the label are ever removed; an address someone else put there is used as is.
import type { IpCommand } from '../routes.ts';

/** At most 15 characters and starting with the device name, as the kernel requires. */
export const LOCAL_ADDRESS_LABEL = 'lo:bramble-dns';

interface IpAddrInfo {
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; label?: string }>;
}

export interface LocalAddressResult {
  action: 'added' | 'kept' | 'foreign';
  /** Addresses of ours for an older service range, removed. */
  removed: string[];
}

export async function ensureLocalAddress(ip: IpCommand, address: string): Promise<LocalAddressResult> {
  const links = JSON.parse((await ip(['-j', '-4', 'addr', 'show', 'dev', 'lo'])) || '[]') as IpAddrInfo[];
  const infos = links.flatMap((link) => link.addr_info ?? []).filter((info) => info.family === 'inet');
  const removed: string[] = [];
  for (const info of infos) {
    if (info.label === LOCAL_ADDRESS_LABEL && info.local && info.local !== address) {
      await ip(['addr', 'del', `${info.local}/${info.prefixlen ?? 32}`, 'dev', 'lo']);
      removed.push(info.local);
    }
  }
  const present = infos.find((info) => info.local === address);
  if (present) return { action: present.label === LOCAL_ADDRESS_LABEL ? 'kept' : 'foreign', removed };
  await ip(['addr', 'add', `${address}/32`, 'dev', 'lo', 'label', LOCAL_ADDRESS_LABEL]);
  return { action: 'added', removed };
}
