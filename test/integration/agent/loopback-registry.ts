import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import type { ImageArchive } from '../../../src/image/index.ts';

/**
 * A minimal Docker Registry HTTP API v2 on 127.0.0.1 (the engine treats 127.0.0.0/8 as an
 * insecure registry, so plain HTTP works), serving images built offline with src/image. Real
 * pulls by the real engine, with no traffic leaving the machine. Requests are recorded.
 */
export class LoopbackRegistry {
  readonly requests: string[] = [];
  private readonly manifests = new Map<string, Buffer>();
  private readonly blobs = new Map<string, Buffer>();
  private server: Server | null = null;
  /** Blob answers held open, half sent (see `stallBlobs`). */
  private readonly stalled = new Set<ServerResponse>();
  port = 0;
  /** A registry too slow to finish: blobs are sent half and then held until `stop`. */
  stallBlobs = false;

  /** How many blob answers are being held open now. */
  get stalledBlobs(): number {
    return [...this.stalled].filter((response) => !response.destroyed).length;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Publishes a `docker load` archive as <repository>:<tag>. */
  async publish(repository: string, tag: string, archive: ImageArchive): Promise<void> {
    const files = new Map<string, Buffer>();
    const tar = extract();
    const done = new Promise<void>((resolve, reject) => {
      tar.on('entry', (header, stream, next) => {
        void buffer(stream).then((content) => {
          files.set(header.name, content);
          next();
        }, reject);
      });
      tar.on('finish', resolve);
      tar.on('error', reject);
    });
    Readable.from([archive.tarball]).pipe(tar);
    await done;
    const manifestList = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '[]') as Array<{ Config: string; Layers: string[] }>;
    const entry = manifestList[0];
    if (!entry) throw new Error('archive has no manifest.json entry');
    const config = files.get(entry.Config);
    if (!config) throw new Error(`archive lacks ${entry.Config}`);
    const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
    this.blobs.set(digest(config), config);
    const layers = entry.Layers.map((path) => {
      const gz = gzipSync(files.get(path) ?? Buffer.alloc(0));
      this.blobs.set(digest(gz), gz);
      return { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: gz.length, digest: digest(gz) };
    });
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: digest(config) },
      layers,
    }));
    this.manifests.set(`${repository}:${tag}`, manifest);
    this.manifests.set(`${repository}:${digest(manifest)}`, manifest);
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = request.url ?? '';
      this.requests.push(`${request.method} ${url}`);
      if (url === '/v2/' || url === '/v2') {
        response.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' }).end('{}');
        return;
      }
      const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url);
      const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url);
      let body: Buffer | undefined;
      let type = 'application/octet-stream';
      if (manifest) {
        body = this.manifests.get(`${manifest[1]}:${decodeURIComponent(manifest[2] ?? '')}`);
        type = 'application/vnd.docker.distribution.manifest.v2+json';
      } else if (blob) {
        body = this.blobs.get(blob[2] ?? '');
      }
      if (!body) {
        response.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: manifest ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN', message: 'not found' }] }));
        return;
      }
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      response.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Docker-Content-Digest': digest });
      if (blob && this.stallBlobs && request.method === 'GET') {
        this.stalled.add(response);
        response.write(body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const response of this.stalled) response.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}
