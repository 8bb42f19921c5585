// The node is a list of named stages started in order and stopped last-in-first-out, so whatever
// a stage relies on (the Raft node under the store server, the API under the agent) is still
// there while it stops. A stage that fails to start stops everything before it, in reverse.
import type { Logger } from 'pino';

/** What a started stage gives back: at least how to stop it. */
export interface Stoppable {
  stop(): Promise<void> | void;
}

/** Thrown by start() once the stages are closed: the caller must not bring anything more up. */
export class StagesStoppedError extends Error {
  constructor(stage: string) {
    super(`stage ${stage} not started: the node is stopping`);
    this.name = 'StagesStoppedError';
  }
}

export class Stages {
  readonly #started: { name: string; stage: Stoppable }[] = [];
  #closed = false;
  #stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** True once close() or stop() was called, or a stage failed to start: nothing more starts. */
  get stopping(): boolean {
    return this.#closed;
  }

  /**
   * Starts one stage and remembers it for stop(). If it throws, the stages started before it are
   * stopped (in reverse) and its error is rethrown. A stage that finishes starting after close()
   * is stopped at once (StagesStoppedError).
   */
  async start<T extends Stoppable>(name: string, start: () => Promise<T> | T): Promise<T> {
    if (this.#closed) throw new StagesStoppedError(name);
    let stage: T;
    try {
      stage = await start();
    } catch (error) {
      await this.stop();
      throw error;
    }
    if (this.#closed) {
      await this.#stopOne(name, stage);
      throw new StagesStoppedError(name);
    }
    this.#started.push({ name, stage });
    return stage;
  }

  /** Refuses further stages but leaves the started ones running (stop() follows). */
  close(): void {
    this.#closed = true;
  }

  /** Stops every started stage, last first; calling it again returns the same promise. One stage failing to stop does not keep the others running. */
  stop(): Promise<void> {
    this.close();
    this.#stopping ??= (async () => {
      for (let entry = this.#started.pop(); entry; entry = this.#started.pop()) await this.#stopOne(entry.name, entry.stage);
    })();
    return this.#stopping;
  }

  async #stopOne(name: string, stage: Stoppable): Promise<void> {
    try {
      await stage.stop();
    } catch (error) {
      this.logger.warn({ err: error, stage: name }, 'stage did not stop cleanly');
    }
  }
}

/**
 * A stage whose own stages come up in the background while the node already runs (the API
 * needs a leader for its first writes, so it starts beside the Raft node, not before it).
 * `body` starts them on its own Stages; a failure it does not handle is logged, not fatal.
 * Stopping waits for `body` to give up (no new stage starts), then stops its stages last first.
 */
export function inBackground(name: string, logger: Logger, body: (stages: Stages) => Promise<void>): Stoppable {
  const stages = new Stages(logger);
  const running = body(stages).catch((error: unknown) => {
    if (!(error instanceof StagesStoppedError)) logger.error({ err: error, stage: name }, `${name} did not start`);
  });
  return {
    stop: async () => {
      stages.close();
      await running;
      await stages.stop();
    },
  };
}
