// A reconcile pass that never overlaps itself: a request while a pass runs marks one more pass to
// run after it, however many requests came (a burst of watch events costs at most two passes).
// Both src/net runners follow this rule; this is the shared form of it.

export interface SerialPass {
  /** Runs a pass now, or once more after the running one. */
  request(): void;
  /** No pass starts after this; one already running finishes. */
  stop(): void;
}

export function serialPass(pass: () => Promise<void>, onError: (error: unknown) => void): SerialPass {
  let running = false;
  let again = false;
  let stopped = false;
  const run = (): void => {
    running = true;
    pass()
      .catch(onError)
      .finally(() => {
        running = false;
        if (again && !stopped) {
          again = false;
          run();
        }
      });
  };
  return {
    request: () => {
      if (stopped) return;
      if (running) again = true;
      else run();
    },
    stop: () => {
      stopped = true;
    },
  };
}
