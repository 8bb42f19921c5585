// The single executable's main script (Node SEA runs it first). Before any of Bramble runs, it
// checks that the executable is whole: its size is the one the build wrote (a truncated copy is
// not; the build patches the number in after postject, scripts/build/sea.ts), and the bundle (the
// SEA asset `bramble.js`) has the sha256 the build recorded. A damaged copy is refused with exit 1
// and has written nothing. A copy cut so short that the kernel cannot even map it dies with
// SIGBUS/SIGSEGV before this runs: that one writes nothing either.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { getAsset } from 'node:sea';
import { runInThisContext } from 'node:vm';

/** `<marker>:<16 digits>`, the digits patched into the finished executable: its size in bytes. */
declare const BRAMBLE_EXECUTABLE_SIZE: string;
declare const BRAMBLE_BUNDLE_SHA256: string;

function refuse(why: string): never {
  process.stderr.write(`bramble: this executable is damaged (${why}); it did not start. Copy it again and check it with sha256sum -c SHA256SUMS.\n`);
  process.exit(1);
}

// Read once: the marker must occur exactly once in the executable for the build to patch it.
const sizeField = BRAMBLE_EXECUTABLE_SIZE;
const expectedSize = Number(sizeField.slice(sizeField.lastIndexOf(':') + 1));
const actualSize = statSync(process.execPath).size;
if (actualSize !== expectedSize) refuse(`${process.execPath} has ${actualSize} bytes, the build wrote ${expectedSize}`);
const code = Buffer.from(getAsset('bramble.js'));
const digest = createHash('sha256').update(code).digest('hex');
if (digest !== BRAMBLE_BUNDLE_SHA256) refuse(`its JavaScript has sha256 ${digest}, the build recorded ${BRAMBLE_BUNDLE_SHA256}`);
// The bundle is CommonJS: it gets this script's require (built-in modules only) and module.
const run = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${code.toString('utf8')}\n})`, { filename: 'bramble.js' }) as (
  exports: unknown,
  require: NodeJS.Require,
  module: NodeJS.Module,
  filename: string,
  dirname: string,
) => void;
run(module.exports, require, module, __filename, __dirname);
