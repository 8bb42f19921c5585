// A minimal OpenAPI v3 description: only what kubectl 1.32 reads from it. kubectl apply/create
// ask /openapi/v3 whether a kind's PATCH accepts `fieldValidation` (then the server validates,
// which ours does with fieldValidation=Strict); without it kubectl falls back to /openapi/v2 and
// client-side schema validation. No schemas: `kubectl explain` is not supported (see README).
import { createHash } from 'node:crypto';
import { groupVersions, resourcesIn } from './resources/index.ts';

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

export function openApiGroupVersion(group: string, version: string): Record<string, unknown> | undefined {
  const infos = resourcesIn(group, version);
  if (infos.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const info of infos) {
    if (!info.verbs.includes('patch')) continue;
    const base = `/${gvPath(group, version)}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${info.kind}`,
        'x-kubernetes-group-version-kind': { group, version, kind: info.kind },
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string' } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Bramble', version: 'v1' }, paths };
}

export function openApiRoot(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const { group, version } of groupVersions()) {
    const doc = JSON.stringify(openApiGroupVersion(group, version));
    const hash = createHash('sha512').update(doc).digest('hex').slice(0, 32).toUpperCase();
    paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
  }
  return { paths };
}

/** The document for /openapi/v3[/<gv path>], or undefined (404). */
export function openApi(segments: readonly string[]): Record<string, unknown> | undefined {
  if (segments[0] !== 'openapi' || segments[1] !== 'v3') return undefined;
  const rest = segments.slice(2);
  if (rest.length === 0) return openApiRoot();
  if (rest[0] === 'api' && rest.length === 2) return openApiGroupVersion('', rest[1] ?? '');
  if (rest[0] === 'apis' && rest.length === 3) return openApiGroupVersion(rest[1] ?? '', rest[2] ?? '');
  return undefined;
}
