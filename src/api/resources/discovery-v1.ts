// ---- discovery.k8s.io/v1 EndpointSlice: the endpoints of a Service, as kubectl >= 1.31 reads them ----
import type { NamespacedMeta } from './core-v1.ts';
import type { KubeObject } from './types.ts';

export interface EndpointConditions {
  /** Serving and not terminating. */
  ready?: boolean;
  /** Passes its readiness check, terminating or not. */
  serving?: boolean;
  terminating?: boolean;
}

export interface EndpointSliceEndpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointSlicePort {
  name?: string;
  /** Defaulted to TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  metadata: NamespacedMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: EndpointSliceEndpoint[];
  ports?: EndpointSlicePort[];
}
