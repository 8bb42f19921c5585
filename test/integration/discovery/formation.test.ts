import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterView, startFormingNodes } from '../../lib/formation.ts';
import { withNetnsLab } from '../../lib/netns.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

// Five rounds of real processes per run (about a minute idle); the agreement itself is proven over
// 500 seeded schedules in test/unit/discovery/formation.test.ts. BRAMBLE_FORMATION_ROUNDS=20 (or
// more) soaks it longer: 20 rounds took 11.5 min of a 20-min suite on a busy machine.
const rounds = Number(process.env.BRAMBLE_FORMATION_ROUNDS ?? 5);

test(`5 boards powered on at the same instant with --bootstrap-expect 3: one cluster of 3 voters + 2 learners, ${rounds} times`, async () => {
  await withNetnsLab(5, async (lab) => {
    for (let round = 1; round <= rounds; round++) {
      await withProcesses(async (group) => {
        // --voters 3: autopilot would otherwise promote the learners (five healthy nodes want five voters).
        const nodes = await startFormingNodes(group, lab, { expect: 3, count: 5, extraArgs: () => ['--voters', '3'] });
        await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS)));
        const view = await waitFor(
          `round ${round}: all five in one configuration with one leader`,
          async () => {
            const seen = await clusterView(nodes);
            return seen && seen.configurations === 1 && seen.leaders.length === 1 && seen.voters.length + seen.learners.length === 5 ? seen : null;
          },
          30_000,
        );
        assert.equal(view.voters.length, 3, `round ${round}: voters ${view.voters.join(',')}`);
        assert.equal(view.learners.length, 2, `round ${round}: learners ${view.learners.join(',')}`);
        assert.deepEqual([...view.voters, ...view.learners].sort(), nodes.map((node) => node.name).sort());
        // No second group: exactly three nodes bootstrapped, the other two joined.
        const bootstrapped = nodes.filter((node) => node.process.log.some((line) => line.includes('"mode":"bootstrap"')));
        const joined = nodes.filter((node) => node.process.log.some((line) => line.includes('"mode":"join"')));
        assert.deepEqual(bootstrapped.map((node) => node.name).sort(), [...view.voters].sort(), `round ${round}`);
        assert.equal(joined.length, 2, `round ${round}`);
      });
    }
  });
});

test('multicast blocked between two namespaces: without --join the three never form; with --join they do', async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      // Hosts 1 and 3 drop each other's multicast (unicast still passes), like two Wi-Fi clients of an access point that filters it.
      for (const [to, from] of [[0, 2], [2, 0]] as const) {
        const result = await lab.exec(lab.host(to), 'iptables', ['-I', 'INPUT', '-s', lab.host(from).ip, '-d', '224.0.0.0/4', '-j', 'DROP']);
        assert.equal(result.code, 0, result.stderr);
      }
      const [first, second] = await startFormingNodes(group, lab, { expect: 3, count: 2 });
      const [blind] = await startFormingNodes(group, lab, { expect: 3, first: 2, count: 1 });
      await blind!.process.waitForLog(/looking for the other boards/, 60_000);
      await first!.process.waitForLog(/looking for the other boards/, 60_000);
      // Node 2 sees all three; nodes 1 and 3 see two each, so nobody can lock a set.
      await first!.process.waitForLog(/2 of 3 expected nodes/, 15_000);
      await new Promise((resolveWait) => setTimeout(resolveWait, 3_000));
      for (const node of [first!, second!, blind!]) assert.ok(!node.process.log.some((line) => line.includes('bramble node ready')), `${node.name} formed without --join`);
      await blind!.process.stop();
      const [joined] = await startFormingNodes(group, lab, { expect: 3, first: 2, count: 1, prefix: 'joined', extraArgs: () => ['--join', `${lab.host(0).ip}:7379`] });
      const nodes = [first!, second!, joined!];
      await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, STARTUP_TIMEOUT_MS)));
      const view = await waitFor('one configuration of three voters', async () => {
        const seen = await clusterView(nodes);
        return seen && seen.configurations === 1 && seen.leaders.length === 1 ? seen : null;
      });
      assert.deepEqual([...view.voters].sort(), ['joined3', 'node1', 'node2']);
    }),
  );
});

test('--bootstrap-expect without the cluster bundle stops at once with what to do (nothing is sent)', async () => {
  await withProcesses(async (group) => {
    const lone = await group.spawn('lone', { args: ({ dataDir }) => ['up', '--name', 'lone', '--data-dir', dataDir, '--peer-addr', '127.0.0.1:1', '--client-addr', '127.0.0.1:2', '--api-addr', 'off', '--bootstrap-expect', '3'] });
    const exit = await lone.waitForExit();
    assert.notEqual(exit.code, 0);
    assert.ok(lone.log.some((line) => line.includes('--bootstrap-expect needs the same cluster bundle on every board: create it once with `bramble cluster init --out DIR`')), lone.log.join('\n'));
    assert.ok(!lone.log.some((line) => line.includes('looking for the other boards')));
  });
});
