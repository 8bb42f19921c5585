// The leader-only control plane: import it from here.
export { ControlManager, DEFAULT_CONTROL_CONFIG, type ControlConfig, type ControlContext, type Controller, type ControllerFactory, type Leadership } from './manager.ts';
export { createScheduler } from './scheduler/scheduler.ts';
import type { ControllerFactory } from './manager.ts';
import { createScheduler } from './scheduler/scheduler.ts';
import { createReplicaSetController } from './controllers/replicaset.ts';
import { createDeploymentController } from './controllers/deployment.ts';
import { createNodeLifecycleController } from './controllers/node-lifecycle.ts';
import { createDaemonSetController } from './controllers/daemonset.ts';
import { createJobController } from './controllers/job.ts';
import { createGarbageCollector } from './controllers/garbage-collector.ts';
import { createNamespaceController } from './controllers/namespace.ts';
import { createEndpointsController } from './controllers/endpoints.ts';
import { createPodCidrController } from './controllers/pod-cidr.ts';
import { createEndpointSliceController } from './controllers/endpointslices.ts';
import { createEndpointSliceMirroringController } from './controllers/endpointslice-mirroring.ts';
import { createApiEndpointsController } from './controllers/api-endpoints.ts';
import { createLoadBalancerStatusController } from './controllers/service-lb.ts';
export { DEFAULT_CLUSTER_CIDR, parseClusterCidr } from './controllers/pod-cidr.ts';

/** Every loop the leader runs. */
export function defaultControllers(): ControllerFactory[] {
  return [
    (ctx) => createScheduler(ctx),
    createReplicaSetController,
    createDeploymentController,
    createDaemonSetController,
    createJobController,
    createNodeLifecycleController,
    createGarbageCollector,
    createNamespaceController,
    createEndpointsController,
    createEndpointSliceController,
    createEndpointSliceMirroringController,
    createApiEndpointsController,
    createLoadBalancerStatusController,
    createPodCidrController,
  ];
}
