// The same transport over TLS (mutual, with a throwaway self-signed certificate made by the
// openssl CLI): delivery works, and a plain-TCP or certificate-less dialer is refused while the
// listener keeps serving.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TcpTransport, type TransportTlsOptions } from '../../../../src/raftnode/transport/index.ts';
import { capturingLogger, everyShape, numbered, record, silentLogger } from '../../../unit/raftnode/transport/helpers.ts';
import { waitFor } from '../../../lib/wait.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('TcpTransport over TLS', { skip: hasOpenssl ? false : 'the openssl CLI is not installed' }, () => {
  let dir = '';
  let tls: TransportTlsOptions;
  const transports: TcpTransport[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bramble-tls-'));
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=bramble-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    tls = {
      server: { key, cert, ca: [cert], requestCert: true, rejectUnauthorized: true },
      client: { key, cert, ca: [cert] },
    };
  });

  after(async () => {
    for (const transport of transports) await transport.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function node(id: string, options: Partial<ConstructorParameters<typeof TcpTransport>[0]> = {}): Promise<TcpTransport> {
    const transport = new TcpTransport({ id, listenAddress: '127.0.0.1:0', logger: silentLogger, tls, reconnectBackoffBaseMs: 10, reconnectBackoffMaxMs: 50, ...options });
    transports.push(transport);
    await transport.start();
    return transport;
  }

  test('messages arrive intact over mutual TLS', async () => {
    const a = await node('a');
    const b = await node('b');
    const atB = record(b);
    a.addPeer('b', b.address());
    a.send(everyShape('a', 'b'));
    await waitFor('messages at b', () => atB.messages.length === everyShape('a', 'b').length);
    assert.deepStrictEqual(atB.messages, everyShape('a', 'b'));
  });

  test('stop() also closes connections still in their TLS handshake', { timeout: 30_000 }, async () => {
    const b = await node('b', { handshakeTimeoutMs: 60_000 });
    const [host, port] = b.address().split(':');
    const silent = connect({ host: host ?? '', port: Number(port) });
    silent.on('error', () => {});
    const closed = new Promise<void>((resolve) => silent.on('close', () => resolve()));
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    // Without closing it, server.close() would wait for this socket until the handshake timeout.
    await b.stop();
    await closed;
  });

  test('a plain-TCP dialer and a dialer without a certificate are refused; the listener keeps serving', async () => {
    const { logger, lines } = capturingLogger();
    const b = await node('b', { logger });
    const atB = record(b);

    const [host, port] = b.address().split(':');
    const plain = connect({ host: host ?? '', port: Number(port) });
    plain.on('error', () => {});
    plain.write(Buffer.from('not a TLS client hello, just bytes\r\n'));
    await new Promise<void>((resolve) => plain.on('close', () => resolve()));

    const noCert = await node('n', { tls: { server: tls.server, client: { ca: tls.client.ca } } });
    const atNoCert = record(noCert);
    noCert.addPeer('b', b.address());
    noCert.send(numbered('n', 'b', 1, 1));
    await waitFor('the certificate-less dialer fails', () => atNoCert.unreachable.includes('b'));
    await noCert.stop();

    await waitFor('TLS refusals logged', () => lines.filter((line) => line.reason === 'tls').length >= 2);
    assert.ok(b.stats().inbound.rejectedConnections >= 2);
    assert.equal(atB.messages.length, 0);

    const a = await node('a');
    a.addPeer('b', b.address());
    a.send(numbered('a', 'b', 7, 1));
    await waitFor('a good TLS peer still gets through', () => atB.messages.length === 1);
  });
});
