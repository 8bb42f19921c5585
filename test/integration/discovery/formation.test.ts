import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../lib/bramble-cluster.ts';
import { clusterView, startFormingNodes } from '../../lib/formation.ts';
import { withNetnsLab } from '../../lib/netns.ts';
import { withProcesses } from '../../lib/processes.ts';

const rounds = Number(process.env.BRAMBLE_FORMATION_ROUNDS ?? 20);

test(`5 boards powered on at the same instant with --bootstrap-expect 3: one cluster of 3 voters + 2 learners, ${rounds} times`, async () => {
  await withNetnsLab(5, async (lab) => {
    for (let round = 1; round <= rounds; round++) {
      await withProcesses(async (group) => {
        // --voters 3: autopilot would otherwise promote the learners (five healthy nodes want five voters).
        const nodes = await startFormingNodes(group, lab, { expect: 3, count: 5, extraArgs: () => ['--voters', '3'] });
        await Promise.all(nodes.map((node) => node.process.waitForLog(/bramble node ready/, 60_000)));
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
