// Entry point of the single executable (`npm run build` bundles from here); bin/bramble.mjs is the
// checkout's. The executable is checked before any command runs: a damaged copy says so and exits
// 1 having written nothing.
import { main } from './main.ts';
import { executableProblem } from './sea/executable.ts';

const problem = executableProblem();
if (problem !== undefined) {
  process.stderr.write(`bramble: ${problem}\n`);
  process.exitCode = 1;
} else {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
