// bindAll one binding at a time: what HttpClient does (the API has no batch binding) and what the
// in-process client falls back to when a batched transaction was refused (some pod had moved).
import { findResource, isFencedStatus, type Status } from '../api/resources/index.ts';
import { ClientError, type Client, type PodBinding } from './client.ts';

const events = (() => {
  const info = findResource('', 'v1', 'events');
  if (!info) throw new Error('events missing from the resource catalog');
  return info;
})();

/** Requests at the same time: enough to hide a round trip, few enough for any server. */
const CONCURRENCY = 16;

export async function bindOneByOne(client: Pick<Client, 'bind' | 'create'>, bindings: readonly PodBinding[]): Promise<(Status | null)[]> {
  const results: (Status | null)[] = new Array<Status | null>(bindings.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bindings.length) {
      const index = next++;
      results[index] = await bindOne(client, bindings[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, bindings.length) }, worker));
  return results;
}

async function bindOne(client: Pick<Client, 'bind' | 'create'>, { pod, nodeName, event }: PodBinding): Promise<Status | null> {
  try {
    await client.bind(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', nodeName);
  } catch (error) {
    const status = error instanceof ClientError ? error.status : undefined;
    // A refusal of this binding is its answer; anything else (fenced, transport) fails the call.
    if (status && (status.code === 404 || status.code === 409) && !isFencedStatus(status)) return status;
    throw error;
  }
  if (event) await client.create(events, event).catch(() => undefined);
  return null;
}
