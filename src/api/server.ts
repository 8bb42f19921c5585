// The Kubernetes REST API over HTTPS: discovery, health, and list/get/create/update/patch/delete/
// watch of the catalog's resources through the Registry. Every request passes the security gate
// (authn -> RBAC); writes pass admission. Every error is a Kubernetes Status; no input crashes it.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdmissionChain } from './admission/index.ts';
import { AdmissionError } from './admission/index.ts';
import type { RequestGate } from './auth/index.ts';
import type { Authorizer, RuleResolver, UserInfo } from './auth/index.ts';
import { answerReview, reviewDiscovery, reviewEndpoint, reviewGroups, type ReviewEndpoint } from './access-review.ts';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  patchPinsResourceVersion,
  badRequest,
  failure,
  findResource,
  groupVersions,
  PatchError,
  qualifiedResource,
  resourcesIn,
  SelectorError,
  success,
  toScale,
  toTable,
  unknownFields,
  validateScale,
  applyScale,
  bindPod,
  invalidStatus,
  type JsonPatchOp,
  type KubeObject,
  type PropagationPolicy,
  type ResourceInfo,
  type Status,
} from './resources/index.ts';
import { decodeBody } from './body-decoder.ts';
import { listPaging } from './list-options.ts';
import type { Fairness } from './fairness.ts';
import { openApi } from './openapi.ts';
import { checkTypeMeta } from './type-meta.ts';
import { decodeProtobufObject, ProtobufError } from './protobuf.ts';
import { ApiError, type Registry } from './registry.ts';
import type { PodStreamRouter } from './pod-stream-router.ts';
import { METRICS_GROUP, type MetricsRouter } from './metrics.ts';
import { rejectUpgrade } from './pod-streams.ts';
import { storeFailureStatus } from './store-unavailable.ts';
import { Health } from './health.ts';
import type { Duplex } from 'node:stream';
import { BodyTooLargeError, readBoundedBody, sendWhole } from '../store/http-body.ts';
import { answerClientError, MAX_HEADER_BYTES } from '../store/client-error.ts';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;
// client-go's reflector resumes from the last bookmark after a reconnect; Kubernetes' watch cache
// sends one about every minute. Bramble's are cheap (one line), so more often keeps resumes short.
const DEFAULT_BOOKMARK_INTERVAL_MS = 10_000;

export interface ApiServerOptions {
  registry: Registry;
  gate: RequestGate;
  admission: AdmissionChain;
  tls: { key: string; cert: string; ca: string };
  host: string;
  port: number;
  gitVersion: string;
  /** How often an open watch with allowWatchBookmarks=true gets a BOOKMARK (default 10 s). */
  bookmarkIntervalMs?: number;
  /** The gate's authorizer, asked again by SelfSubjectAccessReview/RulesReview (`kubectl auth can-i`). */
  authorizer?: Authorizer & RuleResolver;
  /** Serves pods/log and pods/exec (here or on the pod's node); without it they answer 405. */
  podStreams?: PodStreamRouter;
  /** Serves metrics.k8s.io from the nodes' memory; without it its lists are empty. */
  metrics?: MetricsRouter;
  /** /livez, /readyz, /healthz and their checks; without it each has only `ping`. */
  health?: Health;
  /** Per-user rate and in-flight limits (429 + Retry-After); without it none. */
  fairness?: Fairness;
}

/** An answer given before the body was read (401, 403, 413, 415) still reaches a client that is sending it. */
function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return;
  const bytes = Buffer.from(JSON.stringify(body));
  sendWhole(res.req, res, code, { 'content-type': 'application/json', 'content-length': bytes.length }, bytes);
}

/** Retry-After from the Status's details, as Kubernetes' ErrorNegotiated sets it. */
function sendStatus(res: ServerResponse, status: Status): void {
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter !== undefined && retryAfter > 0 && !res.headersSent) res.setHeader('retry-after', String(retryAfter));
  send(res, status.code ?? 500, status);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  try {
    return await readBoundedBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new ApiError(failure(413, 'RequestEntityTooLarge', `${error.message} (3 MiB)`));
    throw error;
  }
}

const BODY_TYPES = new Set(['application/json', 'application/yaml']);
const PATCH_TYPES = new Set(['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
}

function unsupportedMediaType(type: string, allowed: Iterable<string>): ApiError {
  if (type === PROTOBUF) {
    return new ApiError(failure(415, 'UnsupportedMediaType', `this request takes JSON or YAML, not protobuf (protobuf is understood only for creating and replacing objects); send it as JSON, or write the object as YAML and use kubectl apply -f`));
  }
  return new ApiError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${[...allowed].join(', ')} (got "${type}")`));
}

/** The body of a create or update: JSON, YAML, or (what kubectl's generators send) protobuf. */
async function readObjectBody(req: IncomingMessage): Promise<KubeObject> {
  const type = contentTypeOf(req);
  if (type === PROTOBUF) {
    const body = await readBody(req);
    try {
      return asObject(decodeProtobufObject(body).object);
    } catch (error) {
      if (error instanceof ProtobufError) throw new ApiError(failure(error.code, error.code === 415 ? 'UnsupportedMediaType' : 'BadRequest', error.message));
      throw error;
    }
  }
  if (!BODY_TYPES.has(type)) throw unsupportedMediaType(type, [...BODY_TYPES, PROTOBUF]);
  return asObject(await decodeBody(await readBody(req), type));
}

function asObject(value: unknown): KubeObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(badRequest('the request body must be a JSON or YAML object'));
  const o = value as KubeObject;
  if (o.metadata === undefined) o.metadata = {};
  if (o.metadata === null || typeof o.metadata !== 'object') throw new ApiError(badRequest('metadata must be an object'));
  return o;
}

function applyPatch(type: string, info: ResourceInfo, current: KubeObject, patch: unknown): KubeObject {
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(patch)) throw new ApiError(badRequest('a JSON patch must be an array of operations'));
    return asObject(applyJsonPatch(current, patch as JsonPatchOp[]));
  }
  if (type === 'application/merge-patch+json') return asObject(applyMergePatch(current, patch));
  return asObject(applyStrategicMergePatch(info, current, patch));
}

/** fieldValidation=Strict (what kubectl sends): unknown fields are a 400, as in Kubernetes. */
function checkFields(url: URL, info: ResourceInfo, obj: KubeObject): void {
  if (url.searchParams.get('fieldValidation') !== 'Strict') return;
  const unknown = unknownFields(info, obj);
  if (unknown.length > 0) throw new ApiError(badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`));
}

interface Target {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Splits /api/v1/... or /apis/<g>/<v>/... into the resource it names, or undefined. */
function parseResourcePath(segments: string[]): Target | 'unknown' | undefined {
  let group = '';
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = findResource(group, version, rest[2] ?? '');
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    } else if (inner === undefined && rest[2] !== 'status' && rest[2] !== 'finalize') {
      // /namespaces/<ns>/<unknown> is an unknown namespaced resource, not a namespace subresource.
      return 'unknown';
    }
  }
  const info = findResource(group, version, rest[0] ?? '');
  if (!info) return 'unknown';
  const target: Target = { info };
  if (namespace !== undefined) target.namespace = namespace;
  if (rest[1] !== undefined) target.name = rest[1];
  if (rest[2] !== undefined) target.subresource = rest[2];
  return target;
}

function discovery(segments: string[]): unknown {
  const path = '/' + segments.join('/');
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (path === '/apis') {
    const groups = new Map<string, string[]>();
    for (const gv of groupVersions()) if (gv.group !== '') groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        ...[...groups].map(([name, versions]) => ({
          name,
          versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${name}/${versions[0] ?? ''}`, version: versions[0] ?? '' },
        })),
        ...reviewGroups(),
      ],
    };
  }
  let group: string | undefined;
  let version: string | undefined;
  if (segments[0] === 'api' && segments.length === 2) [group, version] = ['', segments[1]];
  else if (segments[0] === 'apis' && segments.length === 3) [group, version] = [segments[1], segments[2]];
  else if (segments[0] === 'apis' && segments.length === 2) {
    const versions = groupVersions().filter((gv) => gv.group === segments[1]).map((gv) => gv.version);
    if (versions.length === 0) return undefined;
    const name = segments[1] ?? '';
    return { kind: 'APIGroup', apiVersion: 'v1', name, versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })), preferredVersion: { groupVersion: `${name}/${versions[0] ?? ''}`, version: versions[0] ?? '' } };
  }
  if (group === undefined || version === undefined) return undefined;
  const infos = resourcesIn(group, version);
  if (infos.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const info of infos) {
    resources.push({ name: info.resource, singularName: info.singular, namespaced: info.namespaced, kind: info.kind, verbs: info.verbs, shortNames: info.shortNames.length ? info.shortNames : undefined, categories: info.categories.length ? info.categories : undefined });
    for (const sub of info.subresources) {
      const kind = sub === 'scale' ? 'Scale' : sub === 'binding' ? 'Binding' : sub === 'status' ? info.kind : sub === 'exec' ? 'PodExecOptions' : 'Pod';
      const verbs = sub === 'status' || sub === 'scale' ? ['get', 'patch', 'update'] : sub === 'log' ? ['get'] : ['create'];
      resources.push({ name: `${info.resource}/${sub}`, singularName: '', namespaced: info.namespaced, kind, verbs, ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}) });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? '');
}

function parseIntParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ApiError(badRequest(`${name} must be a non-negative integer, got "${raw}"`));
  return n;
}

/**
 * Runs a read-modify-write; a 409 from a write the client did not pin to a resourceVersion is
 * retried on the newer object (a few times), so a controller's concurrent status write does not
 * fail a user's patch.
 */
async function retryConflicts<T>(attempt: () => Promise<{ pinned: boolean; result: Promise<T> }>): Promise<T> {
  for (let i = 0; ; i++) {
    const { pinned, result } = await attempt();
    try {
      return await result;
    } catch (error) {
      if (pinned || i >= 9 || !(error instanceof ApiError && error.status.code === 409 && error.status.reason === 'Conflict')) throw error;
    }
  }
}

/** The label and field selectors of a list or deletecollection request. */
function listSelectors(url: URL, namespace: string | undefined): { namespace?: string; labelSelector?: string; fieldSelector?: string } {
  return {
    ...(namespace !== undefined ? { namespace } : {}),
    ...(url.searchParams.get('labelSelector') ? { labelSelector: url.searchParams.get('labelSelector') ?? '' } : {}),
    ...(url.searchParams.get('fieldSelector') ? { fieldSelector: url.searchParams.get('fieldSelector') ?? '' } : {}),
  };
}

/** The body of a create or replace: of the resource's kind (stamped with it), fields checked as fieldValidation asks. */
async function readTypedBody(req: IncomingMessage, url: URL, info: ResourceInfo): Promise<KubeObject> {
  const obj = await readObjectBody(req);
  checkTypeMeta(obj, info);
  checkFields(url, info, obj);
  return obj;
}

/** gracePeriodSeconds and propagationPolicy from the query, overridden by a DeleteOptions body. */
async function readDeleteOptions(req: IncomingMessage, url: URL): Promise<{ grace: number | undefined; propagation: PropagationPolicy | undefined }> {
  let grace = parseIntParam(url, 'gracePeriodSeconds');
  let propagation: unknown = url.searchParams.get('propagationPolicy') ?? undefined;
  const raw = await readBody(req);
  if (raw.length > 0) {
    const opts = (await decodeBody(raw, contentTypeOf(req))) as { gracePeriodSeconds?: unknown; dryRun?: unknown; propagationPolicy?: unknown } | null;
    if (opts && typeof opts.gracePeriodSeconds === 'number') grace = opts.gracePeriodSeconds;
    if (opts && opts.propagationPolicy !== undefined) propagation = opts.propagationPolicy;
  }
  if (propagation !== undefined && propagation !== 'Orphan' && propagation !== 'Background' && propagation !== 'Foreground') {
    throw new ApiError(badRequest(`propagationPolicy ${JSON.stringify(propagation)} is not supported: use Orphan, Background or Foreground`));
  }
  return { grace, propagation };
}


export class ApiServer {
  private server: Server | undefined;
  /** The finish of each open watch: stop() ends them and their store watches together. */
  private readonly openWatches = new Set<() => void>();

  private readonly health: Health;

  constructor(private readonly options: ApiServerOptions) {
    this.health = options.health ?? new Health({ livez: [], readyz: [], healthz: [] });
  }

  async start(): Promise<AddressInfo> {
    const { tls } = this.options;
    const server = createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false, maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const status = error instanceof ApiError ? error.status : failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
        sendStatus(res, status);
      });
    });
    server.on('clientError', answerClientError);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      this.upgrade(req, socket, head).catch((error: unknown) => rejectUpgrade(socket, failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`)));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    for (const finish of [...this.openWatches]) finish();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Trusts client certificates of these CAs besides the node's own (peer nodes forwarding logs/exec). */
  trustClientCas(extraCaPems: readonly string[]): void {
    const { tls } = this.options;
    this.server?.setSecureContext({ key: tls.key, cert: tls.cert, ca: [tls.ca, ...extraCaPems] });
  }

  /** Upgrade requests: only pods/exec over WebSocket; the rest get a Status. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://bramble.invalid');
    const gate = await this.options.gate.check(req);
    if (!gate.ok) return rejectUpgrade(socket, gate.status);
    // Holds a seat only until the upgrade is answered (src/api/fairness.ts: long-running requests).
    const release = this.options.fairness ? this.options.fairness.admitUpgrade(socket, gate.user) : () => {};
    if (release === null) return;
    try {
      await this.routeUpgrade(req, socket, head, url);
    } finally {
      release();
    }
  }

  private async routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const target = parseResourcePath(url.pathname.split('/').filter((s) => s !== ''));
    if (typeof target !== 'object' || target.info.resource !== 'pods' || target.info.group !== '' || target.subresource !== 'exec' || target.name === undefined) {
      return rejectUpgrade(socket, badRequest(`${url.pathname} does not accept a connection upgrade: only pods/NAME/exec does (WebSocket)`));
    }
    if (!this.options.podStreams) return rejectUpgrade(socket, failure(405, 'MethodNotAllowed', 'this server does not serve pods/exec'));
    await this.options.podStreams.serveExec(req, socket, head, url, target.namespace ?? 'default', target.name);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://bramble.invalid');
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const gate = await this.options.gate.check(req);
    if (!gate.ok) return sendStatus(res, gate.status);
    if (this.options.fairness && !this.options.fairness.admit(req, res, gate.user, gate.attrs)) return;
    const path = url.pathname;
    const health = await this.health.answer(path, url.searchParams);
    if (health) {
      res.writeHead(health.code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(health.body);
      return;
    }
    if (path === '/version') {
      return send(res, 200, { major: '1', minor: '32', gitVersion: this.options.gitVersion, platform: `${process.platform}/${process.arch}`, goVersion: 'n/a (Node ' + process.version + ')' });
    }
    const spec = openApi(segments);
    if (spec !== undefined) return send(res, 200, spec);
    const disc = discovery(segments) ?? reviewDiscovery(segments);
    if (disc !== undefined) return send(res, 200, disc);
    const review = reviewEndpoint(segments);
    if (review !== undefined) return this.review(req, res, review, gate.user);
    const target = parseResourcePath(segments);
    if (target === undefined) return sendStatus(res, failure(404, 'NotFound', `the server could not find the requested resource (${req.method ?? 'GET'} ${path})`));
    if (target === 'unknown') return sendStatus(res, failure(404, 'NotFound', `the server could not find the requested resource: no such resource or version (${path})`));
    try {
      await this.resource(req, res, url, target, gate.user);
    } catch (error) {
      if (error instanceof ApiError) return sendStatus(res, error.status);
      if (error instanceof SelectorError) return sendStatus(res, badRequest(error.message));
      if (error instanceof PatchError) return sendStatus(res, failure(error.code, error.code === 422 ? 'Invalid' : error.code === 413 ? 'RequestEntityTooLarge' : 'BadRequest', error.message));
      if (error instanceof AdmissionError) return sendStatus(res, error.toStatus());
      const sub = target.subresource ? `/${target.subresource}` : '';
      const unavailable = storeFailureStatus(error, { verb: gate.attrs.verb, resource: qualifiedResource(target.info) + sub, ...(target.name !== undefined ? { name: target.name } : {}) });
      if (unavailable) return sendStatus(res, unavailable);
      throw error;
    }
  }

  private async admit(operation: 'CREATE' | 'UPDATE' | 'DELETE', target: Target, user: UserInfo, name: string, object: KubeObject | undefined, oldObject: KubeObject | undefined, dryRun: boolean): Promise<void> {
    const { registry } = this.options;
    const nsInfo = findResource('', 'v1', 'namespaces');
    await this.options.admission.admit({
      operation,
      info: target.info,
      namespace: target.info.namespaced ? (target.namespace ?? object?.metadata.namespace ?? 'default') : '',
      name,
      ...(object ? { object } : {}),
      ...(oldObject ? { oldObject } : {}),
      ...(target.subresource ? { subresource: target.subresource } : {}),
      user,
      dryRun,
      lookupNamespace: async (ns) => {
        if (!nsInfo) return undefined;
        try {
          return await registry.get(nsInfo, undefined, ns);
        } catch (error) {
          if (error instanceof ApiError && error.status.code === 404) return undefined;
          throw error;
        }
      },
    });
  }

  /** One request on a resource: the subresources served elsewhere, then the collection or one object. */
  private async resource(req: IncomingMessage, res: ServerResponse, url: URL, target: Target, user: UserInfo): Promise<void> {
    const dryRun = url.searchParams.get('dryRun') === 'All';
    if (await this.routedSubresource(req, res, url, target, dryRun)) return;
    if (target.name === undefined) return this.collection(req, res, url, target, user, dryRun);
    return this.object(req, res, url, { ...target, name: target.name }, user, dryRun);
  }

  /**
   * Subresources with their own handler (scale, binding, metrics, log) and the refusals for the
   * ones not served: true when the request was answered. Only `status` (or none) falls through.
   */
  private async routedSubresource(req: IncomingMessage, res: ServerResponse, url: URL, target: Target, dryRun: boolean): Promise<boolean> {
    const { info, namespace, name, subresource } = target;
    const method = req.method ?? 'GET';
    if (subresource === 'scale' && name !== undefined && info.subresources.includes('scale')) {
      await this.scale(req, res, url, target, name, dryRun);
      return true;
    }
    if (subresource !== undefined && !(info.subresources as readonly string[]).includes(subresource)) {
      throw new ApiError(failure(404, 'NotFound', `the server could not find the requested resource: ${info.resource} has no subresource "${subresource}"`));
    }
    if (subresource === 'binding' && name !== undefined && method === 'POST') {
      await this.bind(req, res, target, name, dryRun);
      return true;
    }
    if (info.group === METRICS_GROUP && this.options.metrics) {
      if (method !== 'GET' || subresource !== undefined) throw new ApiError(failure(405, 'MethodNotAllowed', `${info.group} ${info.resource} are read-only: only get and list`));
      await this.options.metrics.serve(req, res, url, info, namespace, name);
      return true;
    }
    if (subresource === 'log' && name !== undefined && method === 'GET' && this.options.podStreams) {
      await this.options.podStreams.serveLog(req, res, url, namespace ?? 'default', name);
      return true;
    }
    if (subresource === 'exec' && name !== undefined && this.options.podStreams) {
      throw new ApiError(badRequest('exec needs a connection upgrade to WebSocket (subprotocol v5.channel.k8s.io), as kubectl 1.30+ sends it'));
    }
    if (subresource !== undefined && subresource !== 'status') {
      throw new ApiError(failure(405, 'MethodNotAllowed', `the ${subresource} subresource of ${info.resource} is not served yet by this Bramble version`));
    }
    return false;
  }

  /** A request without a name: list or watch, create, deletecollection. */
  private async collection(req: IncomingMessage, res: ServerResponse, url: URL, target: Target, user: UserInfo, dryRun: boolean): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const watch = url.searchParams.get('watch');
      if (watch === '1' || watch === 'true') return this.serveWatch(req, res, url, target);
      return this.list(req, res, url, target);
    }
    if (method === 'POST') return this.create(req, res, url, target, user, dryRun);
    if (method === 'DELETE' && target.info.verbs.includes('deletecollection')) return this.deleteCollection(res, url, target, user, dryRun);
    throw new ApiError(failure(405, 'MethodNotAllowed', `${method} is not supported on a list of ${target.info.resource}`));
  }

  /** A list, paged by limit/continue, as a List or a Table. */
  private async list(req: IncomingMessage, res: ServerResponse, url: URL, target: Target): Promise<void> {
    const { info } = target;
    const { items, ...metadata } = await this.options.registry.list(info, { ...listSelectors(url, target.namespace), ...listPaging(url) });
    if (wantsTable(req)) {
      const table = toTable(info, items, { now: new Date(), listMeta: metadata, includeObject: (url.searchParams.get('includeObject') as 'None' | 'Metadata' | 'Object' | null) ?? 'Metadata' });
      return send(res, 200, table);
    }
    return send(res, 200, { kind: info.listKind, apiVersion: info.apiVersion, metadata, items });
  }

  private async create(req: IncomingMessage, res: ServerResponse, url: URL, target: Target, user: UserInfo, dryRun: boolean): Promise<void> {
    const obj = await readTypedBody(req, url, target.info);
    await this.admit('CREATE', target, user, obj.metadata.name ?? '', obj, undefined, dryRun);
    return send(res, 201, await this.options.registry.create(target.info, target.namespace, obj, { dryRun }));
  }

  /** deletecollection: each matching object goes through the same delete (admission, finalizers, grace). */
  private async deleteCollection(res: ServerResponse, url: URL, target: Target, user: UserInfo, dryRun: boolean): Promise<void> {
    const { registry } = this.options;
    const { info } = target;
    const list = await registry.list(info, listSelectors(url, target.namespace));
    const items: KubeObject[] = [];
    for (const obj of list.items) {
      const objName = obj.metadata.name ?? '';
      await this.admit('DELETE', { ...target, name: objName }, user, objName, undefined, obj, dryRun);
      try {
        items.push(await registry.delete(info, obj.metadata.namespace, objName, { dryRun }));
      } catch (error) {
        // Deleted meanwhile by someone else: that is the outcome asked for.
        if (!(error instanceof ApiError && error.status.code === 404)) throw error;
      }
    }
    return send(res, 200, { kind: info.listKind, apiVersion: info.apiVersion, metadata: { resourceVersion: list.resourceVersion }, items });
  }

  /** A request on one named object (or its status): get, replace, patch, delete. */
  private async object(req: IncomingMessage, res: ServerResponse, url: URL, target: Target & { name: string }, user: UserInfo, dryRun: boolean): Promise<void> {
    const { info, namespace, name } = target;
    const method = req.method ?? 'GET';
    const sub = target.subresource === 'status' ? { subresource: 'status' as const } : {};
    if (method === 'GET') {
      const obj = await this.options.registry.get(info, namespace, name, url.searchParams.get('resourceVersion') === '0');
      if (wantsTable(req)) return send(res, 200, toTable(info, [obj], { now: new Date() }));
      return send(res, 200, obj);
    }
    if (method === 'PUT') {
      const obj = await readTypedBody(req, url, info);
      await this.admit('UPDATE', target, user, name, obj, undefined, dryRun);
      return send(res, 200, await this.options.registry.update(info, namespace, name, obj, { dryRun, ...sub }));
    }
    if (method === 'PATCH') return send(res, 200, await this.patch(req, url, target, user, { dryRun, ...sub }));
    if (method === 'DELETE') return this.deleteObject(req, res, url, target, user, dryRun);
    throw new ApiError(failure(405, 'MethodNotAllowed', `${method} is not supported on ${info.resource}`));
  }

  /** A json, merge or strategic merge patch, applied to the current object (retried on a conflict unless it pins a resourceVersion). */
  private async patch(req: IncomingMessage, url: URL, target: Target & { name: string }, user: UserInfo, options: { dryRun: boolean; subresource?: 'status' }): Promise<KubeObject> {
    const { info, namespace, name } = target;
    const type = contentTypeOf(req);
    if (!PATCH_TYPES.has(type)) throw unsupportedMediaType(type, PATCH_TYPES);
    const patch = await decodeBody(await readBody(req), 'application/json');
    const kind = type === 'application/json-patch+json' ? 'json' : type === 'application/merge-patch+json' ? 'merge' : 'strategic';
    return this.options.registry.updateFrom(
      info,
      namespace,
      name,
      async (current) => {
        const obj = applyPatch(type, info, current, patch);
        checkFields(url, info, obj);
        await this.admit('UPDATE', target, user, name, obj, current, options.dryRun);
        return obj;
      },
      { ...options, retryOnConflict: !patchPinsResourceVersion(kind, patch) },
    );
  }

  /** DELETE of one object: 202 with the object while it waits (grace, finalizers), else as Kubernetes answers. */
  private async deleteObject(req: IncomingMessage, res: ServerResponse, url: URL, target: Target & { name: string }, user: UserInfo, dryRun: boolean): Promise<void> {
    const { info, namespace, name } = target;
    const { grace, propagation } = await readDeleteOptions(req, url);
    await this.admit('DELETE', target, user, name, undefined, undefined, dryRun);
    const obj = await this.options.registry.delete(info, namespace, name, { dryRun, ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), ...(propagation !== undefined ? { propagationPolicy: propagation } : {}) });
    if (obj.metadata.deletionTimestamp !== undefined) return send(res, 202, obj);
    return send(res, 200, info.kind === 'Pod' || info.kind === 'Namespace' ? obj : success({ name, kind: info.resource, uid: obj.metadata.uid ?? '' }));
  }

  /** POST of a SelfSubjectAccessReview, SelfSubjectRulesReview or SelfSubjectReview: answered, not stored. */
  private async review(req: IncomingMessage, res: ServerResponse, endpoint: ReviewEndpoint, user: UserInfo): Promise<void> {
    const authz = this.options.authorizer;
    if ((req.method ?? 'GET') !== 'POST') return sendStatus(res, failure(405, 'MethodNotAllowed', `only create (POST) is supported on ${endpoint.resource}.${endpoint.group}`));
    if (authz === undefined) return sendStatus(res, failure(404, 'NotFound', `${endpoint.resource}.${endpoint.group} is not served: this server has no authorizer to ask`));
    let body: KubeObject;
    try {
      body = await readObjectBody(req);
    } catch (error) {
      if (error instanceof ApiError) return sendStatus(res, error.status);
      throw error;
    }
    const answer = await answerReview(endpoint, body, user, authz);
    if (answer.kind === 'Status') return sendStatus(res, answer as Status);
    return send(res, 201, answer);
  }

  /** POST pods/<name>/binding: the scheduler's write of spec.nodeName (409 when already bound). */
  private async bind(req: IncomingMessage, res: ServerResponse, target: Target, name: string, dryRun: boolean): Promise<void> {
    const { registry } = this.options;
    const type = contentTypeOf(req);
    if (!BODY_TYPES.has(type)) throw unsupportedMediaType(type, BODY_TYPES);
    const binding = asObject(await decodeBody(await readBody(req), type));
    const pod = await registry.get(target.info, target.namespace, name);
    const bound = bindPod(target.info, pod, binding, new Date());
    if (bound.kind === 'Status') throw new ApiError(bound as Status);
    if (!dryRun) await registry.writeIfUnchanged(target.info, pod, bound as KubeObject);
    return send(res, 201, success());
  }

  /** autoscaling/v1 Scale of a Deployment or ReplicaSet: `kubectl scale` reads and patches it. */
  private async scale(req: IncomingMessage, res: ServerResponse, url: URL, target: Target, name: string, dryRun: boolean): Promise<void> {
    const { registry } = this.options;
    const { info, namespace } = target;
    const method = req.method ?? 'GET';
    if (method === 'GET') return send(res, 200, toScale(await registry.get(info, namespace, name)));
    let body: { type: string; value: unknown };
    if (method === 'PUT' || method === 'PATCH') {
      const type = contentTypeOf(req);
      if (method === 'PUT' && !BODY_TYPES.has(type)) throw unsupportedMediaType(type, BODY_TYPES);
      if (method === 'PATCH' && !PATCH_TYPES.has(type)) throw unsupportedMediaType(type, PATCH_TYPES);
      body = { type, value: await decodeBody(await readBody(req), method === 'PUT' ? type : 'application/json') };
    } else throw new ApiError(failure(405, 'MethodNotAllowed', `${method} is not supported on ${info.resource}/scale`));
    // `kubectl scale` sends no resourceVersion: a controller's write meanwhile is not a conflict.
    const updated = await retryConflicts(async () => {
      const current = await registry.get(info, namespace, name);
      const scale = method === 'PUT' ? asObject(body.value) : body.type === 'application/json-patch+json' ? applyPatch(body.type, info, toScale(current), body.value) : asObject(applyMergePatch(toScale(current), body.value));
      const errors = validateScale(scale);
      if (errors.length > 0) throw new ApiError(invalidStatus(info, name, errors));
      const rv = scale.metadata.resourceVersion;
      const pinned = method === 'PUT' ? rv !== undefined && rv !== '' : patchPinsResourceVersion(body.type === 'application/json-patch+json' ? 'json' : 'merge', body.value);
      const next = applyScale(current, scale);
      next.metadata.resourceVersion = pinned ? rv : current.metadata.resourceVersion;
      return { pinned, result: registry.update(info, namespace, name, next, { dryRun }) };
    });
    return send(res, 200, toScale(updated));
  }

  private async serveWatch(req: IncomingMessage, res: ServerResponse, url: URL, target: Target): Promise<void> {
    const { registry } = this.options;
    const { info, namespace } = target;
    const query = {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(url.searchParams.get('labelSelector') ? { labelSelector: url.searchParams.get('labelSelector') ?? '' } : {}),
      ...(url.searchParams.get('fieldSelector') ? { fieldSelector: url.searchParams.get('fieldSelector') ?? '' } : {}),
    };
    const rvParam = url.searchParams.get('resourceVersion');
    if (rvParam !== null && rvParam !== '' && !/^\d+$/.test(rvParam)) throw new ApiError(badRequest(`resourceVersion must be a non-negative integer, got "${rvParam}"`));
    let from = rvParam && rvParam !== '0' ? Number(rvParam) : NaN;
    const bookmarksAllowed = url.searchParams.get('allowWatchBookmarks') === 'true';
    // The watch-list protocol (client-go's WatchListClient): initial ADDEDs, then a bookmark marking their end.
    const sendInitialEvents = url.searchParams.get('sendInitialEvents') === 'true';
    if (sendInitialEvents && !bookmarksAllowed) throw new ApiError(failure(422, 'Invalid', 'sendInitialEvents=true requires allowWatchBookmarks=true'));
    const timeoutSeconds = parseIntParam(url, 'timeoutSeconds') ?? 1800;
    const table = wantsTable(req);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // Send the headers now: a watch with nothing to report yet must still look started to the client.
    res.flushHeaders();
    // Never after the end: an event racing the close would throw write-after-end out of a callback.
    const write = (type: string, object: unknown) => void (res.writableEnded || res.write(JSON.stringify({ type, object }) + '\n'));
    const encode = (obj: KubeObject) => (table ? toTable(info, [obj], { now: new Date() }) : obj);
    const bookmark = (revision: number, annotations?: Record<string, string>) => {
      if (bookmarksAllowed && !table) write('BOOKMARK', { kind: info.kind, apiVersion: info.apiVersion, metadata: { resourceVersion: String(revision), ...(annotations ? { annotations } : {}) } });
    };
    if (sendInitialEvents || !Number.isInteger(from) || from < 0) {
      // No resourceVersion (or sendInitialEvents): Kubernetes starts with synthetic ADDED events for what exists now.
      const list = await registry.list(info, { ...query, local: rvParam === '0' });
      for (const obj of list.items) write('ADDED', encode(obj));
      from = Number(list.resourceVersion);
      if (sendInitialEvents) bookmark(from, { 'k8s.io/initial-events-end': 'true' });
    }
    let watch: { cancel(): void } | undefined;
    let lastRevision = from;
    const finish = () => {
      watch?.cancel();
      clearTimeout(timer);
      clearInterval(bookmarks);
      this.openWatches.delete(finish);
      if (!res.writableEnded) res.end();
    };
    this.openWatches.add(finish);
    // A last bookmark as the timeout closes the watch, so the client resumes from where it was.
    const timer = setTimeout(() => {
      bookmark(lastRevision);
      finish();
    }, timeoutSeconds * 1000);
    const bookmarks = setInterval(() => bookmark(lastRevision), this.options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS);
    req.on('close', finish);
    try {
      watch = registry.watch(info, { ...query, fromRevision: from }, (type, obj) => write(type, encode(obj)), (status) => {
        write('ERROR', status);
        finish();
      }, (revision) => {
        lastRevision = revision;
      });
    } catch (error) {
      // A start revision already compacted away: the client must list again.
      write('ERROR', failure(410, 'Expired', `too old resource version: ${from} (${(error as Error).message})`));
      finish();
    }
  }
}

