import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatColumns, noResourcesMessage, printTable, resourceName } from '../../../../src/cli/kube/printer.ts';
import type { Table } from '../../../../src/api/resources/types.ts';

const col = (name: string, priority = 0): Table['columnDefinitions'][number] => ({ name, type: 'string', format: '', description: '', priority });
const podTable: Table = {
  apiVersion: 'meta.k8s.io/v1',
  kind: 'Table',
  metadata: { resourceVersion: '10' },
  columnDefinitions: [col('Name'), col('Ready'), col('Status'), col('Restarts'), col('Age'), col('IP', 1), col('Node', 1)],
  rows: [
    { cells: ['nginx-7854ff8877-abcde', '1/1', 'Running', 0, '10s', '10.88.0.2', 'pi-1'], object: { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: { name: 'nginx-7854ff8877-abcde', namespace: 'default' } } },
    { cells: ['web', '0/1', 'Pending', 0, '2m', null, null], object: { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: { name: 'web', namespace: 'class-a' } } },
  ],
};

describe('kubectl-style printing', () => {
  test('columns as kubectl prints them (3 spaces after the widest cell, last column unpadded)', () => {
    assert.equal(
      printTable(podTable),
      'NAME                     READY   STATUS    RESTARTS   AGE\n' + 'nginx-7854ff8877-abcde   1/1     Running   0          10s\n' + 'web                      0/1     Pending   0          2m\n',
    );
  });

  test('-o wide adds the priority-1 columns; -A puts NAMESPACE first; --no-headers', () => {
    const wide = printTable(podTable, { wide: true, withNamespace: true }).split('\n');
    assert.equal(wide[0], 'NAMESPACE   NAME                     READY   STATUS    RESTARTS   AGE   IP          NODE');
    assert.equal(wide[1], 'default     nginx-7854ff8877-abcde   1/1     Running   0          10s   10.88.0.2   pi-1');
    assert.equal(wide[2], 'class-a     web                      0/1     Pending   0          2m');
    // Without headers the columns are as wide as the data, as with kubectl.
    assert.equal(printTable(podTable, { noHeaders: true }).split('\n')[0], 'nginx-7854ff8877-abcde   1/1   Running   0     10s');
  });

  test('columns are at least 6 wide, as tabwriter with kubectl settings', () => {
    assert.equal(formatColumns([['A', 'B', 'C'], ['x', 'y', 'z']]), 'A     B     C\nx     y     z\n');
  });

  test('-o name', () => {
    assert.equal(resourceName({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } }), 'pod/web');
    assert.equal(resourceName({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }), 'deployment.apps/web');
    assert.equal(resourceName({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'view' } }), 'clusterrole.rbac.authorization.k8s.io/view');
  });

  test('empty lists', () => {
    assert.equal(noResourcesMessage('default'), 'No resources found in default namespace.\n');
    assert.equal(noResourcesMessage(undefined), 'No resources found\n');
  });
});
