// The worker thread that parses YAML request bodies (body-decoder.ts starts it): the `yaml`
// library needs about 10 µs a value, so a large body parsed on the main thread would stall every
// other request, Raft heartbeats included. Here it stalls only this thread.
import { parentPort } from 'node:worker_threads';
import { BodyLimitError, parseYamlBounded } from './body-limits.ts';

/** What the main thread sends: one body. */
export interface YamlRequest {
  id: number;
  body: Uint8Array;
}

/** What comes back: the decoded value, or why it was refused. */
export type YamlReply = { id: number; value: unknown } | { id: number; error: { kind: 'limit' | 'syntax'; message: string } };

function decode({ id, body }: YamlRequest): YamlReply {
  try {
    return { id, value: parseYamlBounded(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) };
  } catch (error) {
    // A stack overflow or anything else the library throws is the body's fault too: a 400, not a crash.
    return { id, error: { kind: error instanceof BodyLimitError ? 'limit' : 'syntax', message: (error as Error).message } };
  }
}

parentPort?.on('message', (request: YamlRequest) => parentPort?.postMessage(decode(request)));
