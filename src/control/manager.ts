// Runs the control loops only while this node is the Raft leader. On becoming leader it claims
// the write fence for its term (connect), builds its caches from the store (list + watch) and
// starts every controller; on losing leadership it stops them at once. Writes go through a
// fenced Client, so a deposed leader that has not noticed yet cannot overwrite its successor.
import type { Logger } from 'pino';
import { isFenced, type Client, type ResourceInfo } from '../client/index.ts';
import { ObjectInformer } from '../client/cache/index.ts';

/** What the manager needs of the Raft node (RaftNode satisfies it). */
export interface Leadership {
  onLeadershipChange(listener: (leading: boolean, term: number) => void): () => void;
  /** When each peer was last heard from (ms since the epoch), on the leader. */
  lastContact(): ReadonlyMap<string, number>;
  status(): { members: Record<string, string>; role: string; term: number };
}

export interface ControlConfig {
  /** A node not heard from for this long becomes Ready=Unknown, tainted unreachable, its pods evicted. */
  nodeGraceMs: number;
  /** How often node liveness is checked. */
  nodeCheckIntervalMs: number;
  /** The range the leader cuts one /24 pod subnet per Node from (`bramble up --cluster-cidr`). */
  clusterCidr: string;
}

export const DEFAULT_CONTROL_CONFIG: ControlConfig = { nodeGraceMs: 4_000, nodeCheckIntervalMs: 500, clusterCidr: '10.42.0.0/16' };

export interface ControlContext {
  client: Client;
  term: number;
  nodeName: string;
  logger: Logger;
  config: ControlConfig;
  leadership: Leadership;
  /** When this node became leader (ms since the epoch): the liveness baseline for peers not heard since. */
  leadingSinceMs: number;
  /** The shared cache of a kind (one list + watch per kind for all controllers). */
  informer(info: ResourceInfo): ObjectInformer;
  /** A controller's write failed: a fencing failure stops every loop of this term. */
  failed(controller: string, key: string, error: unknown): void;
}

export interface Controller {
  readonly name: string;
  /** Called once every cache is filled: start processing queued keys. */
  start(): void;
  stop(): void;
}

export type ControllerFactory = (ctx: ControlContext) => Controller;

export interface ControlManagerOptions {
  leadership: Leadership;
  nodeName: string;
  /** Claims the fence for `term` and returns a Client whose writes carry it. */
  connect(term: number): Promise<Client>;
  controllers: readonly ControllerFactory[];
  logger: Logger;
  config?: Partial<ControlConfig>;
}

interface Session {
  term: number;
  stopped: boolean;
  controllers: Controller[];
  informers: Map<string, ObjectInformer>;
}

export class ControlManager {
  private session: Session | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly config: ControlConfig;

  constructor(private readonly o: ControlManagerOptions) {
    this.config = { ...DEFAULT_CONTROL_CONFIG, ...o.config };
  }

  start(): void {
    this.unsubscribe = this.o.leadership.onLeadershipChange((leading, term) => {
      if (leading) this.lead(term);
      else this.stepDown(`leadership lost (term ${term})`);
    });
    // Already leading when the API came up (a single node elects itself before it): start now.
    const status = this.o.leadership.status();
    if (status.role === 'leader') this.lead(status.term);
  }

  stop(): void {
    this.unsubscribe?.();
    this.stepDown('node stopping');
  }

  /** The term the loops run for, or undefined when they do not run. */
  get runningTerm(): number | undefined {
    return this.session && !this.session.stopped ? this.session.term : undefined;
  }

  private lead(term: number): void {
    this.stepDown('a new term');
    const session: Session = { term, stopped: false, controllers: [], informers: new Map() };
    this.session = session;
    const logger = this.o.logger.child({ component: 'control', term });
    void (async () => {
      let client: Client | undefined;
      while (!session.stopped && client === undefined) {
        try {
          client = await this.o.connect(term);
        } catch (error) {
          if (isFenced(error)) {
            logger.warn({ err: error }, 'a newer leader holds the control plane; not starting');
            return;
          }
          logger.warn({ err: error }, 'could not claim the control plane yet; retrying');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      if (session.stopped || client === undefined) return;
      const leadingSinceMs = Date.now();
      const ctx: ControlContext = {
        client,
        term,
        nodeName: this.o.nodeName,
        logger,
        config: this.config,
        leadership: this.o.leadership,
        leadingSinceMs,
        informer: (info) => {
          const key = `${info.group}/${info.resource}`;
          let inf = session.informers.get(key);
          if (!inf) {
            inf = new ObjectInformer(client, info, { logger });
            session.informers.set(key, inf);
          }
          return inf;
        },
        failed: (controller, key, error) => {
          if (isFenced(error)) {
            if (this.session === session) this.stepDown('fenced by a newer leader');
            return;
          }
          logger.debug({ err: error, controller, key }, 'reconcile failed; retrying');
        },
      };
      session.controllers = this.o.controllers.map((f) => f(ctx));
      // Each cache lists until it succeeds (logging each failure), or until stepDown stops it.
      await Promise.all([...session.informers.values()].map((i) => i.start()));
      if (session.stopped) return;
      for (const c of session.controllers) c.start();
      logger.info({ controllers: session.controllers.map((c) => c.name) }, 'control plane running on this node');
    })();
  }

  private stepDown(why: string): void {
    const session = this.session;
    if (!session || session.stopped) return;
    session.stopped = true;
    for (const c of session.controllers) c.stop();
    for (const i of session.informers.values()) i.stop();
    this.o.logger.info({ component: 'control', term: session.term, why }, 'control plane stopped on this node');
  }
}
