import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusOf } from '../../lib/bramble-cluster.ts';
import type { AutopilotReport } from '../../../src/discovery/autopilot.ts';
import { clusterView, startFormingNodes } from '../../lib/formation.ts';
import { withNetnsLab } from '../../lib/netns.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { bramble } from '../../lib/commands.ts';
import { StoreClient } from '../../../src/store/client.ts';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrambleNode } from '../../lib/bramble-cluster.ts';
import { fastFormationArgs } from '../../lib/formation.ts';
import { readBundle } from '../../../src/identity/bundle.ts';
import { formatJoinToken } from '../../../src/identity/token.ts';
import { waitFor } from '../../lib/wait.ts';

// A one-second election timeout (not the 200 ms of fastFormationArgs): on a loaded test machine a
// shorter one lets a busy leader lose its lease, and the point here is a voter's death, not an election.
const autopilotArgs = ['--voters', '3', '--autopilot-stable-ms', '1000', '--autopilot-dead-ms', '2000', '--tick-ms', '50', '--election-ticks', '20'];

const rogueScript = resolve(import.meta.dirname, 'rogue-member.ts');

test('a sixth board with only the token (no bundle, no --join) finds a member by mDNS, refuses a rogue announcer, joins as a learner; wrong tokens find no member; kill -9 a voter and a learner takes its place while writes keep succeeding', async () => {
  await withNetnsLab(6, (lab) =>
    withProcesses(async (group) => {
      const nodes = await startFormingNodes(group, lab, { expect: 3, count: 5, extraArgs: () => autopilotArgs });
      await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS)));
      const bundle = readBundle(nodes[0]!.bundleDir);
      const host = lab.host(5);
      const fiveNames = nodes.map((node) => node.name).sort();
      const membership = async () => {
        const seen = await clusterView(nodes);
        return seen && seen.configurations === 1 ? [...seen.voters, ...seen.learners].sort() : null;
      };
      // A board started with nothing but the token (and its own addresses).
      const tokenOnly = (name: string, token: string, ports: { peer: number; client: number }, extra: string[] = []) =>
        group.spawn(name, {
          args: ({ dataDir }) => ['up', '--name', name, '--data-dir', dataDir, '--peer-addr', `${host.ip}:${ports.peer}`, '--client-addr', `${host.ip}:${ports.client}`, '--token', token, ...fastFormationArgs, ...autopilotArgs, ...extra],
          netns: host.netns,
        });

      // A rogue on the sixth host announces itself as a member of the cluster (lowest node id, so it
      // is tried first) and serves another CA's certificate with the real CA certificate appended.
      const rogue = await group.spawn('rogue', { command: [process.execPath, '--import', 'tsx', rogueScript], args: ({ dataDir }) => [dataDir, host.ip, '7390', bundle.clusterId, join(nodes[0]!.bundleDir, 'ca.crt')], netns: host.netns });
      await rogue.waitForLog(/^READY /, 30_000);
      await rogue.waitForLog(new RegExp(`^MEMBERS ${fiveNames.join(',')}$`), 15_000);

      // Wrong tokens: another cluster's fingerprint finds no member at all; the right cluster id with
      // another fingerprint finds the members (and the rogue) but refuses every one of them.
      const foreignFingerprint = randomBytes(32).toString('hex');
      const sameIdFingerprint = `${bundle.caFingerprint.slice(0, 16)}${randomBytes(24).toString('hex')}`;
      const [foreign, lookalike] = await Promise.all([
        tokenOnly('wrongfp', formatJoinToken(foreignFingerprint, bundle.secret), { peer: 7481, client: 7480 }, ['--member-search-ms', '3000']),
        tokenOnly('lookalike', formatJoinToken(sameIdFingerprint, bundle.secret), { peer: 7483, client: 7482 }, ['--member-search-ms', '4000']),
      ]);
      assert.equal((await foreign.waitForExit()).code, 1, foreign.log.join('\n'));
      assert.ok(foreign.log.some((line) => /no member of cluster [0-9a-f]{16} admitted this node within 3 s of mDNS browsing\. heard 0 member\(s\) and 0 forming board\(s\) of this cluster, and [1-9]\d* board\(s\) of other clusters\. Check that this board is on the same network as the cluster and that multicast passes .*--join <member address>:7379/.test(line)), foreign.log.join('\n'));
      assert.ok(foreign.log.some((line) => line.includes('still looking for a member') || line.includes('looking for a member of the token\'s cluster (mDNS)')), 'progress is logged');
      assert.equal((await lookalike.waitForExit()).code, 1, lookalike.log.join('\n'));
      // All six refused, the rogue among them (in the order heard: on a busy machine the rogue's answer may come after the gather window).
      assert.ok(lookalike.log.some((line) => /refused 6 that announce this cluster id but are not the token's cluster \([^)]*\brogue at [\d.]+:7390\b/.test(line)), lookalike.log.join('\n'));
      assert.equal(lookalike.log.filter((line) => line.includes('refused a node that announces this cluster: trying the next one')).length, 6, lookalike.log.join('\n'));
      for (const failed of [foreign, lookalike]) {
        assert.equal(existsSync(join(failed.dataDir, 'bundle')), false, `${failed.name} keeps no credentials`);
        assert.equal(existsSync(join(failed.dataDir, 'raft')), false, `${failed.name} keeps no Raft log`);
      }
      assert.deepEqual(await membership(), fiveNames, 'the wrong tokens changed nothing');

      // The real token: the rogue is dialled first and refused, a genuine member admits the board.
      const spawnedMs = Date.now();
      const sixthProcess = await tokenOnly('node6', bundle.token, { peer: 7380, client: 7379 }, ['--api-addr', `${host.ip}:6443`, '--runtime', 'none']);
      await sixthProcess.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
      const readyMs = Date.now() - spawnedMs;
      assert.ok(sixthProcess.log.some((line) => line.includes('"mode":"join"') && line.includes(`"clusterId":"${bundle.clusterId}"`)), sixthProcess.log.join('\n'));
      assert.ok(sixthProcess.log.some((line) => line.includes('refused a node that announces this cluster') && line.includes('"member":"rogue"')), sixthProcess.log.join('\n'));
      await rogue.waitForLog(/^CONNECTION /, 5_000);
      const sixth: BrambleNode = { name: 'node6', process: sixthProcess, peerAddress: `${host.ip}:7380`, clientAddress: `${host.ip}:7379`, bundleDir: nodes[0]!.bundleDir, tls: nodes[0]!.tls };
      const all = [...nodes, sixth];
      const formed = await waitFor('six members, 3 voters + 3 learners', async () => {
        const seen = await clusterView(all);
        return seen && seen.configurations === 1 && seen.leaders.length === 1 && seen.voters.length === 3 && seen.learners.length === 3 ? seen : null;
      }, 30_000);
      assert.ok(formed.learners.includes(sixth.name));
      // It announces itself as a member now (the rogue hears it), and its Node is in the store.
      await rogue.waitForLog(new RegExp(`^MEMBERS ${[...fiveNames, 'node6'].sort().join(',')}$`), 15_000);
      const nodeObject = await waitFor('the sixth board\'s Node in the store', async () => {
        const store = new StoreClient({ endpoints: [nodes[0]!.clientAddress], timeoutMs: 5_000, tls: nodes[0]!.tls });
        try {
          return await store.get(Buffer.from('/registry/nodes/node6'));
        } catch {
          return null;
        } finally {
          store.close();
        }
      }, 60_000);
      assert.ok(nodeObject.length > 0);
      console.log(`# token-only board: spawned to "bramble node ready" in ${readyMs} ms (search ${/"searchMs":(\d+)/.exec(sixthProcess.log.find((line) => line.includes('received this node\'s credentials')) ?? '')?.[1]} ms)`);
      await rogue.stop();

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
      const statusRun = await bramble(['cluster', 'status', '--bundle', survivors[0]!.bundleDir, '--endpoints', survivors.map((node) => node.clientAddress).join(',')]);
      assert.equal(statusRun.code, 0, statusRun.stderr);
      const { stdout } = statusRun;
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

      // The token-only board restarts with the same command line (--token, same data dir): it
      // resumes with the credentials it received, without searching or joining again.
      assert.deepEqual(await sixth.process.stop(), { code: 0, signal: null });
      sixth.process.start();
      await sixth.process.waitForLog(/"mode":"resume"/, 60_000);
      assert.equal(sixth.process.log.filter((line) => line.includes('looking for a member of the token\'s cluster')).length, 1, 'searched only at its first start');
      await waitFor('the restarted token-only board healthy in the leader\'s view', async () => {
        for (const node of survivors.filter((item) => item !== sixth)) {
          const report = ((await statusOf(node)) as { autopilot?: AutopilotReport | null } | null)?.autopilot;
          const member = report?.members.find((item) => item.id === sixth.name);
          if (member) return member.health === 'healthy';
        }
        return false;
      }, 30_000);

      // --token with --join and --bootstrap-expect: the credentials come from the --join address
      // (no search), then the board joins as a learner and takes part in discovery as a member.
      const seventh = await tokenOnly('node7', bundle.token, { peer: 7580, client: 7579 }, ['--join', `${lab.host(0).ip}:7379`, '--bootstrap-expect', '3']);
      await seventh.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS);
      assert.ok(seventh.log.some((line) => line.includes('"mode":"join"')), seventh.log.join('\n'));
      assert.ok(seventh.log.some((line) => line.includes('does not apply to a board with only the join token')), seventh.log.join('\n'));
      assert.ok(!seventh.log.some((line) => line.includes('looking for a member of the token\'s cluster')), 'no mDNS search with --join');
      await waitFor('node7 a learner in the configuration', async () => {
        const seen = await clusterView(survivors);
        return seen && seen.configurations === 1 && seen.learners.includes('node7') ? true : null;
      }, 30_000);
    }),
  );
});
