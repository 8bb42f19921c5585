import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFormingNodes } from '../../lib/formation.ts';
import { kubectl } from '../../lib/kubectl.ts';
import { withNetnsLab } from '../../lib/netns.ts';
import { withProcesses, STARTUP_TIMEOUT_MS } from '../../lib/processes.ts';
import { waitFor } from '../../lib/wait.ts';

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

test('README quick start: one bundle, three boards with --bootstrap-expect 3, real kubectl get nodes shows three Ready nodes', async () => {
  await withNetnsLab(3, (lab) =>
    withProcesses(async (group) => {
      const nodes = await startFormingNodes(group, lab, {
        expect: 3,
        count: 3,
        // The API on each board's address (fastFormationArgs turns it off), pods through the real Docker engine.
        extraArgs: (index) => ['--api-addr', `${lab.host(index).ip}:6443`, '--runtime', 'docker', '--node-status-ms', '500'],
      });
      await Promise.all(nodes.map((node) => node.process.waitForLog(/kubernetes API ready/, STARTUP_TIMEOUT_MS)));
      const kubeconfig = join(nodes[0]!.bundleDir, 'kubeconfig');
      const ready = await waitFor(
        'three Ready nodes through kubectl',
        async () => {
          const { code, stdout } = await kubectl(kubeconfig, ['--server', `https://${lab.host(1).ip}:6443`, 'get', 'nodes', '-o', 'json']);
          if (code !== 0 || !stdout) return null;
          const list = JSON.parse(stdout) as NodeList;
          const readyNames = list.items.filter((item) => item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((item) => item.metadata.name);
          return readyNames.length === 3 ? readyNames.sort() : null;
        },
        60_000,
      );
      assert.deepEqual(ready, ['node1', 'node2', 'node3']);
    }),
  );
});
