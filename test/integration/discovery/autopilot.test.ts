import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusOf, waitFor } from '../../lib/bramble-cluster.ts';
import type { AutopilotReport } from '../../../src/discovery/autopilot.ts';
import { clusterView, startFormingNodes } from '../../lib/formation.ts';
import { withNetnsLab } from '../../lib/netns.ts';
import { withProcesses } from '../../lib/processes.ts';
import { brambleBin } from '../../lib/processes.ts';
import { StoreClient } from '../../../src/store/client.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
// A one-second election timeout (not the 200 ms of fastFormationArgs): on a loaded test machine a
// shorter one lets a busy leader lose its lease, and the point here is a voter's death, not an election.
const autopilotArgs = ['--voters', '3', '--autopilot-stable-ms', '1000', '--autopilot-dead-ms', '2000', '--tick-ms', '50', '--election-ticks', '20'];

test('autopilot: a sixth board joins as a learner; kill -9 a voter and a learner takes its place while writes keep succeeding', async () => {
  await withNetnsLab(6, (lab) =>
    withProcesses(async (group) => {
      const nodes = await startFormingNodes(group, lab, { expect: 3, count: 5, extraArgs: () => autopilotArgs });
      await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, 60_000)));
      const [sixth] = await startFormingNodes(group, lab, { expect: 3, first: 5, count: 1, extraArgs: () => autopilotArgs });
      await sixth!.process.waitForLog(/"mode":"join"/, 60_000);
      const all = [...nodes, sixth!];
      const formed = await waitFor('six members, 3 voters + 3 learners', async () => {
        const seen = await clusterView(all);
        return seen && seen.configurations === 1 && seen.leaders.length === 1 && seen.voters.length === 3 && seen.learners.length === 3 ? seen : null;
      }, 30_000);
      assert.ok(formed.learners.includes(sixth!.name));

      const leader = formed.leaders[0]!;
      const victim = all.find((node) => formed.voters.includes(node.name) && node.name !== leader)!;
      const survivors = all.filter((node) => node !== victim);
      const client = new StoreClient({ endpoints: survivors.map((node) => node.clientAddress), timeoutMs: 10_000, tls: survivors[0]!.tls });
      let writes = 0;
      const failures: string[] = [];
      let writing = true;
      const writer = (async () => {
        while (writing) {
          try {
            await client.put(Buffer.from(`k${writes % 10}`), Buffer.from(String(writes)));
            writes++;
          } catch (error) {
            failures.push((error as Error).message);
          }
          await new Promise((resolveWait) => setTimeout(resolveWait, 20));
        }
      })();
      try {
        await new Promise((resolveWait) => setTimeout(resolveWait, 500));
        await victim.process.kill('SIGKILL');
        const healed = await waitFor('autopilot to promote a learner in place of the dead voter', async () => {
          const seen = await clusterView(survivors);
          return seen && seen.configurations === 1 && seen.voters.length === 3 && !seen.voters.includes(victim.name) ? seen : null;
        }, 30_000);
        assert.ok(healed.learners.includes(victim.name), 'the dead voter is demoted to a learner, not removed');
        const before = writes;
        await waitFor('writes after the change', async () => writes >= before + 20, 10_000);
      } finally {
        writing = false;
        await writer;
        client.close();
      }
      // The survivors kept a quorum throughout: not one write failed.
      assert.deepEqual(failures, []);
      assert.ok(writes > 20);

      // bramble cluster status: roles, last contact and health from the leader's view.
      const { stdout } = await execFileAsync(process.execPath, [brambleBin, 'cluster', 'status', '--bundle', survivors[0]!.bundleDir, '--endpoints', survivors.map((node) => node.clientAddress).join(',')], { encoding: 'utf8' });
      assert.match(stdout, /As seen by the leader \S+ \(autopilot keeps 3 voters; last change: demote /);
      const memberLines = stdout.split('\n').filter((line) => /^node\d\s+(leader|voter|learner)\s/.test(line));
      assert.equal(memberLines.length, 6, stdout);
      assert.match(memberLines.find((line) => line.startsWith(`${victim.name} `))!, new RegExp(`^${victim.name}\\s+learner\\s+dead\\s+\\d+(\\.\\d)?s\\s`));
      assert.equal(memberLines.filter((line) => /\s(leader|voter)\s+healthy\s/.test(line)).length, 3, stdout);

      // The board comes back (same data dir): it resumes from its log, announces itself as a member
      // and catches up as a healthy learner; with --voters 3 autopilot leaves the voters as they are.
      victim.process.start();
      await victim.process.waitForLog(/"mode":"resume"/, 60_000);
      await waitFor('the returned board to be a healthy learner in the leader\'s view', async () => {
        for (const node of survivors) {
          const report = ((await statusOf(node)) as { autopilot?: AutopilotReport | null } | null)?.autopilot;
          const member = report?.members.find((item) => item.id === victim.name);
          if (member) return member.role === 'learner' && member.health === 'healthy' && report!.members.filter((item) => item.role !== 'learner').length === 3;
        }
        return false;
      }, 30_000);
    }),
  );
});
