import { createServer } from 'node:net';

const handedOut = new Set<number>();

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. Ports handed out by this process are never
 * handed out twice, so several nodes of one test cannot collide with each other.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no new free port after 50 attempts');
}
