// What `npm run build` (scripts/build.ts) writes into the bundle through esbuild's `define`. In a
// source checkout these globals are never declared, so `typeof` answers 'undefined' and `stamp`
// is undefined: every caller then takes the checkout's way (package.json, git, tsx).
declare const BRAMBLE_BUILD_VERSION: string;
declare const BRAMBLE_BUILD_COMMIT: string;
declare const BRAMBLE_BUILD_NODE_VERSION: string;
declare const BRAMBLE_BUILD_ADDONS: Record<string, Record<string, string>>;

export interface BundleStamp {
  /** package.json's version at build time. */
  version: string;
  /** The git commit built, `-dirty` when the tree had changes. */
  commit: string;
  /** The Node.js version the executables embed (process.version form, e.g. v20.20.2). */
  nodeVersion: string;
  /** Per `<platform>-<arch>`: embedded native addon name -> sha256 (hex) of its bytes. */
  addons: Record<string, Record<string, string>>;
}

export const stamp: BundleStamp | undefined =
  typeof BRAMBLE_BUILD_VERSION === 'string'
    ? { version: BRAMBLE_BUILD_VERSION, commit: BRAMBLE_BUILD_COMMIT, nodeVersion: BRAMBLE_BUILD_NODE_VERSION, addons: BRAMBLE_BUILD_ADDONS }
    : undefined;
