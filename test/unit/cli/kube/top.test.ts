import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { topNodes, topPods } from '../../../../src/cli/kube/top.ts';

describe('bramble top (kubectl columns)', () => {
  test('nodes: millicores, Mi, percentages of allocatable; a node without metrics is <unknown>', () => {
    const metrics = [{ apiVersion: 'metrics.k8s.io/v1beta1', kind: 'NodeMetrics', metadata: { name: 'pi-1' }, usage: { cpu: '209123456n', memory: '1061888Ki' } }];
    const nodes = [
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-2' }, status: { allocatable: { cpu: '4', memory: '7800Mi' } } },
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1' }, status: { allocatable: { cpu: '4', memory: '3900Mi' } } },
    ];
    assert.equal(
      topNodes(metrics, nodes),
      'NAME   CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)\n' + 'pi-1   209m         5%          1037Mi          27%\n' + 'pi-2   <unknown>    <unknown>   <unknown>       <unknown>\n',
    );
  });

  test('pods: containers summed, NAMESPACE first with -A', () => {
    const pod = (ns: string, name: string, usages: [string, string][]) => ({ apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name, namespace: ns }, containers: usages.map(([cpu, memory], i) => ({ name: `c${i}`, usage: { cpu, memory } })) });
    const out = topPods([pod('b', 'web', [['1m', '2Mi']]), pod('a', 'db', [['150m', '100Mi'], ['50m', '28Mi']])], true);
    assert.equal(out, 'NAMESPACE   NAME   CPU(cores)   MEMORY(bytes)\n' + 'a           db     200m         128Mi\n' + 'b           web    1m           2Mi\n');
  });
});
