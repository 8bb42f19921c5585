import type { LayerEntry } from './archive.ts';

/**
 * The filesystem of a minimal image around one static busybox binary: the binary, a symlink per
 * applet (as `busybox --list-full` prints them, e.g. "bin/sh", "usr/bin/wget"), and the few files
 * a shell expects.
 */
export function busyboxLayer(busyboxBinary: Uint8Array, appletPaths: string[]): LayerEntry[] {
  const entries: LayerEntry[] = [
    { type: 'file', path: '/bin/busybox', content: busyboxBinary, mode: 0o755 },
    { type: 'directory', path: '/tmp', mode: 0o1777 },
    { type: 'directory', path: '/root', mode: 0o700 },
    { type: 'directory', path: '/proc' },
    { type: 'directory', path: '/sys' },
    { type: 'directory', path: '/dev' },
    { type: 'file', path: '/etc/passwd', content: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n') },
    { type: 'file', path: '/etc/group', content: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
  ];
  const seen = new Set(['bin/busybox']);
  for (const raw of appletPaths) {
    const path = raw.trim().replace(/^\/+/, '');
    if (path === '' || seen.has(path)) continue;
    seen.add(path);
    entries.push({ type: 'symlink', path: `/${path}`, target: '/bin/busybox' });
  }
  return entries;
}
