/** The offline test images that scripts/test-host.sh builds and loads into the local engine. */
export const testImages = {
  amd64: 'bramble-test/busybox:amd64',
  arm64: 'bramble-test/busybox:arm64',
} as const;

/** Where test-host.sh extracts Debian's busybox-static for each architecture (<dir>/<arch>/bin/busybox). */
export function busyboxCacheDir(): string {
  return process.env.BRAMBLE_TEST_CACHE ? `${process.env.BRAMBLE_TEST_CACHE}/busybox` : '/var/cache/bramble-test/busybox';
}
