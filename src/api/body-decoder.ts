// Decodes JSON and YAML request bodies into values without stalling the event loop: JSON is
// checked by a linear scan (body-limits.ts) before the native JSON.parse; YAML goes to one worker
// thread (yaml-worker.ts), started on the first YAML body, that parses one body at a time.
import { Worker } from 'node:worker_threads';
import { BodyLimitError, BodySyntaxError, parseJsonBounded } from './body-limits.ts';
import { ApiError } from './registry.ts';
import { badRequest, failure } from './resources/index.ts';
import type { YamlReply } from './yaml-worker.ts';

/**
 * A YAML body not decoded within this time (its own parse and the ones queued before it) fails
 * with 503 and the worker is replaced. A backstop only: the limits bound a parse to a few seconds.
 */
export const YAML_DECODE_TIMEOUT_MS = 60_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** yaml-worker.ts bundled on its own, when this is the bundle `npm run build` made (its esbuild `define`). */
declare const BRAMBLE_YAML_WORKER_SOURCE: string;

/**
 * In the bundle the worker runs its own bundled source (CommonJS, evaluated). From a checkout it is
 * loaded through tsx, registered in the worker itself: a worker does not inherit a loader registered by register().
 */
function startWorker(): Worker {
  // The heap bound turns a body that would exhaust memory into a failed decode, not a dead process.
  const resourceLimits = { maxOldGenerationSizeMb: 256 };
  if (typeof BRAMBLE_YAML_WORKER_SOURCE === 'string') return new Worker(BRAMBLE_YAML_WORKER_SOURCE, { eval: true, resourceLimits });
  const bootstrap = [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `await import(${JSON.stringify(new URL('./yaml-worker.ts', import.meta.url).href)});`,
  ].join('\n');
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { resourceLimits });
}

/** One worker and the bodies sent to it; the module keeps one (`decodeBody`), tests make their own. */
export class YamlDecoder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  decode(body: Buffer, timeoutMs = YAML_DECODE_TIMEOUT_MS): Promise<unknown> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new ApiError(failure(503, 'ServiceUnavailable', `the YAML body was not decoded within ${timeoutMs / 1000} s; retry, or send it as JSON`))), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      // While bodies are pending the worker keeps the process alive; idle, it does not.
      worker.ref();
      worker.postMessage({ id, body });
    });
  }

  private start(): Worker {
    const worker = startWorker();
    worker.unref();
    worker.on('message', (reply: YamlReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(new ApiError(failure(500, 'InternalError', `Internal error occurred: the YAML decoder failed: ${error.message}`))));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(new ApiError(failure(500, 'InternalError', `Internal error occurred: the YAML decoder exited (code ${code})`)));
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: YamlReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in reply) {
      const prefix = reply.error.kind === 'limit' ? '' : 'the request body is not valid YAML: ';
      pending.reject(new ApiError(badRequest(prefix + reply.error.message)));
    } else pending.resolve(reply.value);
  }

  /** Every pending body fails with `error`; the worker is dropped and the next body starts a new one. */
  private fail(error: ApiError): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.pending.clear();
  }
}

const yaml = new YamlDecoder();

function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A JSON or YAML body as a value; a body over the limits or not parseable is a 400 ApiError. */
export async function decodeBody(body: Buffer, contentType: string): Promise<unknown> {
  const type = mediaType(contentType);
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') return yaml.decode(body);
  try {
    return parseJsonBounded(body.toString('utf8'));
  } catch (error) {
    if (error instanceof BodyLimitError) throw new ApiError(badRequest(error.message));
    if (error instanceof BodySyntaxError) throw new ApiError(badRequest(`the request body is not valid JSON: ${error.message}`));
    throw error;
  }
}
