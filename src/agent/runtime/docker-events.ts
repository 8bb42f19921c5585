import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';

/** One message of the engine's event stream (the fields Bramble reads). */
export interface DockerEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export interface FollowEventsOptions {
  /** The engine's own filters (type, event, label): the engine sends nothing else. */
  filters: Record<string, string[]>;
  onEvent: (event: DockerEvent) => void;
  /**
   * A stream is open (the first one too): whatever happened before it (while it was down, or
   * between the caller's last look and the subscription) is unknown, so look again.
   */
  onGap: () => void;
  /** First wait before subscribing again; it doubles per failed try up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Follows the engine's event stream (newline-delimited JSON) for as long as it is not stopped:
 * when the stream ends or cannot be opened it subscribes again with back-off (1 s doubling to
 * 30 s, reset once a stream is open), and reports each opening as a gap, so the caller looks
 * again at what it may have missed. Returns the function that stops following.
 */
export function followDockerEvents(docker: Dockerode, options: FollowEventsOptions): () => void {
  const initialRetryMs = options.retryMs ?? 1_000;
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  let retryMs = initialRetryMs;
  let stopped = false;
  let current: Readable | null = null;
  let timer: NodeJS.Timeout | null = null;

  const later = (): void => {
    if (stopped) return;
    timer = setTimeout(subscribe, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  };

  const subscribe = (): void => {
    timer = null;
    docker.getEvents({ filters: options.filters }).then(
      (opened) => {
        const stream = opened as Readable;
        if (stopped) {
          stream.destroy();
          return;
        }
        current = stream;
        retryMs = initialRetryMs;
        options.onGap();
        let pending = '';
        stream.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            if (line.trim() === '') continue;
            try {
              options.onEvent(JSON.parse(line) as DockerEvent);
            } catch {
              // Not JSON: the engine sends none; a torn line is not worth a crash.
            }
          }
        });
        const ended = (): void => {
          if (current !== stream) return;
          current = null;
          later();
        };
        stream.on('end', ended);
        stream.on('close', ended);
        stream.on('error', ended);
      },
      () => later(),
    );
  };

  subscribe();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const stream = current;
    current = null;
    stream?.destroy();
  };
}
