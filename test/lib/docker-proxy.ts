import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';

/**
 * A unix-socket proxy in front of the real Docker engine that records every HTTP request passing
 * through it (method and path), so a test can count what a component asks the engine. It can
 * also cut every open connection, as an engine restart would (event streams end).
 */
export class CountingDockerProxy {
  /** "GET /v1.41/containers/json?..." in order of arrival. */
  readonly requests: string[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly socketPath: string,
  ) {}

  static async start(target = process.env['DOCKER_HOST']?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock'): Promise<CountingDockerProxy> {
    const dir = await mkdtemp(join(tmpdir(), 'bramble-docker-proxy-'));
    const socketPath = join(dir, 'docker.sock');
    let proxy: CountingDockerProxy | null = null;
    const server = createServer((client) => {
      const engine = connect(target);
      proxy?.track(client, engine);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    proxy = new CountingDockerProxy(server, dir, socketPath);
    return proxy;
  }

  /** A dockerode client that talks to the engine through this proxy. */
  docker(): Dockerode {
    return new Dockerode({ socketPath: this.socketPath });
  }

  /** The requests recorded from index `from` on whose request line matches `pattern`. */
  since(from: number, pattern: RegExp = /./): string[] {
    return this.requests.slice(from).filter((line) => pattern.test(line));
  }

  /** Ends every connection open now (long ones such as event streams included). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private track(client: Socket, engine: Socket): void {
    this.sockets.add(client);
    this.sockets.add(engine);
    // Request lines are found in the client's bytes; a line split across chunks is joined with the tail kept.
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      const text = tail + chunk.toString('latin1');
      for (const match of text.matchAll(/(?:^|\r\n)((?:GET|POST|PUT|DELETE|HEAD) \S+) HTTP\/1\.[01]\r\n/g)) this.requests.push(match[1] ?? '');
      const lastBreak = text.lastIndexOf('\r\n');
      tail = text.slice(Math.max(lastBreak, text.length - 512));
    });
    client.pipe(engine);
    engine.pipe(client);
    const close = () => {
      client.destroy();
      engine.destroy();
      this.sockets.delete(client);
      this.sockets.delete(engine);
    };
    client.on('close', close);
    engine.on('close', close);
    client.on('error', close);
    engine.on('error', close);
  }
}
