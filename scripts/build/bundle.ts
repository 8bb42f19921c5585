// The JavaScript of the single executable: esbuild bundles the CLI (src/cli/binary.ts), the YAML
// worker (src/api/yaml-worker.ts) and the SEA main script that checks and starts the CLI
// (src/cli/sea/loader.ts), each into CommonJS for Node 20 (an SEA main script must be CommonJS).
// Nothing is loaded from node_modules at run time: the worker's source and the build's stamp are
// `define`d into the bundle, and classic-level's addon loader (node-gyp-build) is replaced by the
// embedded-addon loader of src/cli/sea/native-addons.ts.
import { build, formatMessagesSync, type BuildOptions, type Message, type Metafile, type Plugin } from 'esbuild';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';

/** What the bundle needs to know about its build (src/cli/sea/stamp.ts reads it). */
export interface Stamp {
  version: string;
  commit: string;
  nodeVersion: string;
  /** `<platform>-<arch>` -> addon name -> sha256 of its bytes. */
  addons: Record<string, Record<string, string>>;
}

/**
 * Native addons the bundle's dependencies would load but the executable goes without, and why
 * each is safe to leave out. Each `require` of them throws (excludedNative), which its caller
 * catches, carrying on without it.
 */
export const EXCLUDED_NATIVE: Record<string, string> = {
  'cbor-extract': "cbor-x's optional native string extractor: cbor-x decodes in JavaScript without it (slower on big values only)",
  'cpu-features': "ssh2's optional CPU probe for its cipher order: only used for ssh:// Docker hosts, which Bramble does not use",
  './crypto/build/Release/sshcrypto.node': "ssh2's optional native ciphers: ssh2 falls back to node:crypto, and Bramble talks to Docker over its socket or TCP, not ssh",
  bufferutil: "ws's optional native frame masking (not installed either): ws masks in JavaScript",
  'utf-8-validate': "ws's optional native UTF-8 check (not installed either): Node's buffer.isUtf8 does it",
  'osx-temperature-sensor': "systeminformation's macOS-only sensor (not installed): Bramble runs on Linux",
  'macos-temperature-sensor': "systeminformation's macOS-only sensor (not installed): Bramble runs on Linux",
};

/** Packages that load their addon through node-gyp-build and get the embedded one instead. */
const EMBEDDED_ADDON_PACKAGES = ['classic-level'];

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Whitespace and syntax only: identifiers stay, so stack traces still name functions.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  metafile: true,
  write: false,
  // Warnings are checked (checkWarnings), errors thrown.
  logLevel: 'silent',
} satisfies BuildOptions;

/** classic-level's `require('node-gyp-build')(__dirname)` becomes a lazy load of its embedded addon. */
function embeddedAddons(projectDir: string): Plugin {
  const loader = join(projectDir, 'src', 'cli', 'sea', 'native-addons.ts');
  return {
    name: 'bramble-embedded-addons',
    setup(esbuild) {
      esbuild.onResolve({ filter: /^node-gyp-build$/ }, ({ importer }) => {
        const owner = EMBEDDED_ADDON_PACKAGES.find((name) => importer.includes(`/node_modules/${name}/`));
        if (owner === undefined) return { errors: [{ text: `${importer} loads a native addon through node-gyp-build: embed it (scripts/build/targets.ts) or exclude it (EXCLUDED_NATIVE)` }] };
        return { path: owner, namespace: 'bramble-addon' };
      });
      esbuild.onLoad({ filter: /.*/, namespace: 'bramble-addon' }, ({ path }) => ({
        contents: `const { lazyEmbeddedAddon } = require(${JSON.stringify(loader)});\nmodule.exports = () => lazyEmbeddedAddon(${JSON.stringify(path)});\n`,
        resolveDir: projectDir,
        loader: 'js',
      }));
    },
  };
}

/** The excluded addons' names resolve to a module that throws, as a missing package would: the callers catch it. */
function excludedNative(): Plugin {
  const names = Object.keys(EXCLUDED_NATIVE);
  return {
    name: 'bramble-excluded-native',
    setup(esbuild) {
      esbuild.onResolve({ filter: /.*/ }, ({ path }) => (names.includes(path) ? { path, namespace: 'bramble-excluded' } : undefined));
      esbuild.onLoad({ filter: /.*/, namespace: 'bramble-excluded' }, ({ path }) => ({
        contents: `throw new Error(${JSON.stringify(`${path} is not part of the bramble executable: ${EXCLUDED_NATIVE[path]}`)});\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The CommonJS bundle has no import.meta (esbuild leaves it empty). Only these files use it, each
 * on a path the bundle never takes (it has the stamp and the worker's source); a new use fails the build.
 */
const IMPORT_META_CHECKOUT_ONLY = ['src/cli/build-info.ts', 'src/api/body-decoder.ts'];

function checkWarnings(warnings: Message[]): void {
  const unexpected = warnings.filter((warning) => !(warning.id === 'empty-import-meta' && IMPORT_META_CHECKOUT_ONLY.includes(warning.location?.file ?? '')));
  if (unexpected.length === 0) return;
  throw new Error(`esbuild warned:\n${formatMessagesSync(unexpected, { kind: 'warning' }).join('\n')}`);
}

/** Every `.node` file, node-gyp-build or tsx that made it into a bundle: each would need node_modules at run time. */
export function strayInputs(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs).filter(
    (input) => !input.startsWith('bramble-excluded:') && (input.endsWith('.node') || /node_modules\/(tsx|node-gyp-build[^/]*)\//.test(input)),
  );
}

/**
 * The package names the bundle still `require`s that are not Node built-ins: the executable's
 * require refuses them (with a warning on every start), so each one is a build error.
 */
export function nonBuiltinRequires(code: string): string[] {
  const names = new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]!));
  return [...names].filter((name) => !isBuiltin(name)).sort();
}

function single(outputFiles: { text: string }[] | undefined, what: string): string {
  if (outputFiles?.length !== 1) throw new Error(`esbuild made ${outputFiles?.length ?? 0} files for ${what}, expected 1`);
  return outputFiles[0]!.text;
}

export interface Bundle {
  code: string;
  workerBytes: number;
}

export async function bundle(projectDir: string, stamp: Stamp): Promise<Bundle> {
  const worker = await build({ ...common, entryPoints: [join(projectDir, 'src', 'api', 'yaml-worker.ts')] });
  const workerCode = single(worker.outputFiles, 'the YAML worker');
  const main = await build({
    ...common,
    entryPoints: [join(projectDir, 'src', 'cli', 'binary.ts')],
    plugins: [embeddedAddons(projectDir), excludedNative()],
    define: {
      BRAMBLE_BUILD_VERSION: JSON.stringify(stamp.version),
      BRAMBLE_BUILD_COMMIT: JSON.stringify(stamp.commit),
      BRAMBLE_BUILD_NODE_VERSION: JSON.stringify(`v${stamp.nodeVersion}`),
      BRAMBLE_BUILD_ADDONS: JSON.stringify(stamp.addons),
      BRAMBLE_YAML_WORKER_SOURCE: JSON.stringify(workerCode),
    },
  });
  checkWarnings([...worker.warnings, ...main.warnings]);
  const stray = [...strayInputs(worker.metafile), ...strayInputs(main.metafile)];
  if (stray.length > 0) throw new Error(`the bundle would load these from node_modules at run time: ${stray.join(', ')}`);
  const code = single(main.outputFiles, 'the CLI');
  const unresolved = [...nonBuiltinRequires(workerCode), ...nonBuiltinRequires(code)];
  if (unresolved.length > 0) throw new Error(`the bundle requires ${unresolved.join(', ')} at run time: bundle them, or exclude them in EXCLUDED_NATIVE with the reason`);
  return { code, workerBytes: workerCode.length };
}

/**
 * The SEA main script (src/cli/sea/loader.ts): checks the executable's size (`sizeMarker` followed
 * by 16 zeros, patched after injection) and the bundle's digest, then runs the bundle.
 */
export async function loader(projectDir: string, bundleSha256: string, sizeMarker: string): Promise<string> {
  const result = await build({
    ...common,
    entryPoints: [join(projectDir, 'src', 'cli', 'sea', 'loader.ts')],
    define: { BRAMBLE_EXECUTABLE_SIZE: JSON.stringify(`${sizeMarker}${'0'.repeat(16)}`), BRAMBLE_BUNDLE_SHA256: JSON.stringify(bundleSha256) },
  });
  checkWarnings(result.warnings);
  const code = single(result.outputFiles, 'the loader');
  const unresolved = nonBuiltinRequires(code);
  if (unresolved.length > 0) throw new Error(`the loader requires ${unresolved.join(', ')}: it may use Node's built-in modules only`);
  return code;
}
