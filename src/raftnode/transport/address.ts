// Peer addresses are "host:port"; IPv6 hosts are bracketed ("[fe80::1]:7000"), as in URLs.

export interface HostPort {
  host: string;
  port: number;
}

/** Null when `address` is not host:port with a port in 1..65535 (0 is accepted for listening). */
export function parseHostPort(address: string, allowPortZero = false): HostPort | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  if (!match) return null;
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (host === undefined || host.length === 0 || port > 65535 || (port === 0 && !allowPortZero)) return null;
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
