// An offline board: no route to its resolver at all (ENETUNREACH at connect). Forwarding a name
// outside the cluster must give up at once and leave the process running: the failed connect used
// to be followed by a send on the unconnected socket, which threw outside any handler and ended
// `bramble up` (found on the three-board bed by services-boards.test.ts). Runs in a lab namespace
// whose only route is the lab subnet.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { withNetnsLab } from '../../lib/netns.ts';

const execFileAsync = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..');

// Two forwards in a row (the process must survive the first), then a line the test reads.
const SCRIPT = `
import packet from 'dns-packet';
import { forwardQuery } from './src/net/dns/upstream.ts';
const query = packet.encode({ type: 'query', id: 7, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: 'example.com' }] });
const answers = [];
for (const round of [1, 2]) answers.push(await forwardQuery(query, { servers: ['192.0.2.53', '198.51.100.53:5353'], timeoutMs: 60000 }));
console.log('answers ' + JSON.stringify(answers.map((a) => a ?? null)));
`;

test('forwarding with no route to any upstream: no answer, at once, and the process lives on', { timeout: 120_000 }, async () => {
  await withNetnsLab(1, async (lab) => {
    const netns = lab.hosts[0]!.netns;
    const route = await execFileAsync('ip', ['-n', netns, 'route', 'get', '192.0.2.53']).catch((error: { stderr: string }) => error);
    assert.match(String(route.stderr), /unreachable/, 'the namespace has no route to the upstreams');
    // A 60 s timeout per server: only a failure at connect ends this well inside the test's time.
    const run = await execFileAsync('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: root, encoding: 'utf8', timeout: 100_000 });
    assert.equal(run.stdout.trim(), 'answers [null,null]');
  });
});
