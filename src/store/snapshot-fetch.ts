import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { SnapshotTicket } from '../raftnode/envelope.ts';
import { type StoreClientTls, storePaths } from './wire.ts';

export interface SnapshotFetcherOptions {
  /** Where partial downloads live; a restart resumes from what is there. */
  partDir: string;
  logger: Logger;
  /** Attempts after a failed or cut-off piece before giving up (the leader will offer it again). */
  maxAttempts?: number;
  retryDelayMs?: number;
  /** The client port of a cluster with a CA speaks only TLS with client certificates. */
  tls?: StoreClientTls;
}

function partPath(dir: string, ticket: SnapshotTicket): string {
  return join(dir, `snap-${ticket.term}-${ticket.index}-${ticket.sha256.slice(0, 16)}.part`);
}

/** Appends bytes [offset, end) of the ticket's snapshot from its source to the part file. */
function downloadFrom(ticket: SnapshotTicket, file: string, offset: number, tls: StoreClientTls | undefined): Promise<void> {
  const separator = ticket.source.lastIndexOf(':');
  const host = ticket.source.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(ticket.source.slice(separator + 1));
  return new Promise<void>((resolve, reject) => {
    let answered = false;
    const req = (tls ? httpsRequest : httpRequest)(
      {
        ...tls,
        host,
        port,
        method: 'GET',
        path: `${storePaths.snapshot}?index=${ticket.index}&term=${ticket.term}`,
        headers: { range: `bytes=${offset}-` },
        timeout: 30_000,
      },
      (response) => {
        answered = true;
        if (response.statusCode !== 206 && !(response.statusCode === 200 && offset === 0)) {
          response.resume();
          reject(new Error(`${ticket.source} answered ${response.statusCode} for snapshot ${ticket.index} (it may have a newer one)`));
          return;
        }
        // Every chunk goes to the file stream as it arrives, never paused: on a cut, Node drops
        // what a paused response still buffers (and pipeline() what the file stream buffers), and
        // the resume would ask again for bytes that had arrived. The memory this may hold is at
        // most the snapshot, which is read whole once complete anyway.
        const out = createWriteStream(file, { flags: 'a' });
        response.on('data', (chunk: Buffer) => out.write(chunk));
        finished(response).then(
          () => {
            out.end();
            finished(out).then(resolve, reject);
          },
          (cut: unknown) => {
            out.end();
            finished(out).then(() => reject(cut), reject);
          },
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${ticket.source} stopped sending the snapshot`)));
    // Once answered, the response's end decides, after the file has its bytes.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end();
  });
}

/**
 * Pulls a snapshot named by a ticket over the leader's client API with HTTP range requests,
 * appending to a part file: a connection cut or a crash of this process resumes where the file
 * ends. The result is checked against the ticket's SHA-256 before it is handed to Raft.
 */
export function snapshotFetcher(options: SnapshotFetcherOptions): (ticket: SnapshotTicket) => Promise<Uint8Array> {
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 500;
  return async (ticket) => {
    mkdirSync(options.partDir, { recursive: true });
    const file = partPath(options.partDir, ticket);
    // Downloads of other snapshots are stale now.
    for (const name of readdirSync(options.partDir)) if (join(options.partDir, name) !== file) rmSync(join(options.partDir, name), { force: true });
    for (let attempt = 1; ; attempt++) {
      const have = existsSync(file) ? statSync(file).size : 0;
      if (have > ticket.sizeBytes) rmSync(file);
      else if (have === ticket.sizeBytes) break;
      else {
        if (have > 0) options.logger.info({ index: ticket.index, offsetBytes: have, sizeBytes: ticket.sizeBytes }, 'resuming a snapshot download');
        try {
          await downloadFrom(ticket, file, have, options.tls);
          continue;
        } catch (error) {
          if (attempt >= maxAttempts) throw error;
          options.logger.debug({ err: (error as Error).message, attempt }, 'snapshot download interrupted; retrying');
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
          continue;
        }
      }
    }
    const data = readFileSync(file);
    rmSync(file, { force: true });
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== ticket.sha256) throw new Error(`snapshot ${ticket.index} arrived damaged (sha256 ${digest}, expected ${ticket.sha256}); it will be fetched again`);
    return data;
  };
}
