// Bad input against real `bramble up` processes: bytes no Bramble node would send on the peer
// port, and malformed requests on the client API. Both ports take only clients with a certificate
// of the cluster CA (test/integration/identity covers those without): the garbage here comes from
// an authenticated sender, the hardest case, so the framing and validation behind TLS are tested. Each must cost only that connection or that
// request: the process keeps running, the cluster keeps committing, and stored data is intact.

import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { Socket } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { encode } from 'cbor-x';
import { nodeSubject, readBundle } from '../../../src/identity/bundle.ts';
import { issueCertificate, loadCa } from '../../../src/identity/certs.ts';
import { encodeHello } from '../../../src/raftnode/transport/codec.ts';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from '../../../src/raftnode/transport/frame.ts';
import { StoreClient } from '../../../src/store/client.ts';
import { wire } from '../../../src/store/wire.ts';
import { type BrambleNode, startBrambleCluster, statusOf, waitForLeader } from '../../lib/bramble-cluster.ts';
import { ProcessGroup } from '../../lib/processes.ts';

const text = (value: string) => Buffer.from(value);

let group: ProcessGroup;
let nodes: BrambleNode[];
let failed = false;
/** A genuine node certificate of the cluster for "node9", a node that is not a member. */
let node9Tls: ConnectionOptions;
let clusterId: string;
/** Puts this file made and saw committed: the store's revision must equal their number at the end. */
let ourWrites = 0;

before(async () => {
  group = new ProcessGroup();
  nodes = await startBrambleCluster(group, 3);
  const bundle = readBundle(nodes[0]!.bundleDir);
  clusterId = bundle.clusterId;
  const node9 = await issueCertificate(await loadCa(bundle.caCertPem, bundle.caKeyPem), { subject: nodeSubject('node9'), usages: ['client', 'server'], hosts: ['127.0.0.1'] });
  node9Tls = { ca: bundle.caCertPem, cert: node9.cert, key: node9.key, checkServerIdentity: () => undefined };
  await waitForLeader(nodes);
  const client = new StoreClient({ tls: nodes[0]!.tls, endpoints: nodes.map((node) => node.clientAddress) });
  for (let i = 0; i < 20; i++) {
    await client.put(text(`/before/${i}`), text(`v${i}`));
    ourWrites++;
  }
  client.close();
});

after(async () => {
  if (failed) console.error(`--- logs of the cluster ---\n${group.logs()}\n--- end of logs ---`);
  await group.cleanup();
});

/** Every node still runs, a write commits, and the 20 keys written before the test read back unchanged on every node. */
async function assertHealthy(): Promise<void> {
  for (const node of nodes) assert.ok(node.process.running, `${node.name} is still running`);
  const client = new StoreClient({ tls: nodes[0]!.tls, endpoints: nodes.map((node) => node.clientAddress), timeoutMs: 10_000 });
  try {
    await client.put(text('/after/write'), text('committed'));
    ourWrites++;
  } finally {
    client.close();
  }
  for (const node of nodes) {
    const local = new StoreClient({ tls: node.tls, endpoints: [node.clientAddress], timeoutMs: 10_000 });
    try {
      const response = await local.range({ prefix: text('/before/') });
      assert.deepEqual(
        response.kvs.map((kv) => `${Buffer.from(kv.key).toString()}=${Buffer.from(kv.value).toString()}`).sort(),
        Array.from({ length: 20 }, (_, i) => `/before/${i}=v${i}`).sort(),
        `${node.name} still holds the data written before`,
      );
    } finally {
      local.close();
    }
  }
}

async function guarded(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    failed = true;
    throw error;
  }
}

// --- the peer port ---------------------------------------------------------------------------

/** Writes the bytes to a node's peer port and resolves once the node closes the connection. */
async function sendToPeerPort(node: BrambleNode, chunks: Uint8Array[], timeoutMs = 10_000): Promise<{ closedByPeer: boolean; received: Buffer }> {
  const [host, port] = node.peerAddress.split(':');
  const socket: Socket = connect({ host: host!, port: Number(port), ...node9Tls });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  for (const chunk of chunks) socket.write(chunk);
  const closedByPeer = await closed;
  return { closedByPeer, received: Buffer.concat(received) };
}

/** Log lines of a peer connection closed for one of the reasons (a regex alternation). */
function dropLogLines(node: BrambleNode, reason: string): number {
  const pattern = new RegExp(`"reason":"(${reason})".*closed a peer connection`);
  return node.process.log.filter((line) => pattern.test(line)).length;
}

/** Waits for the node to log one more peer connection closed for `reason` than before. */
async function waitForDropLog(node: BrambleNode, reason: string, before: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (dropLogLines(node, reason) <= before) {
    if (Date.now() > deadline) throw new Error(`${node.name} did not log a dropped connection with reason ${reason}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const peerCases: { name: string; reason: string; bytes: () => Uint8Array[]; withinMs?: number }[] = [
  { name: 'random garbage', reason: 'badCbor|badLength|unknownVersion|frameTooLarge|badShape', bytes: () => [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')] },
  {
    name: 'a length prefix above the maximum frame size',
    reason: 'frameTooLarge',
    bytes: () => {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(DEFAULT_MAX_FRAME_BYTES + 1, 0);
      header.writeUInt8(1, 4);
      return [header];
    },
  },
  {
    name: 'an oversized frame actually streamed (17 MiB)',
    reason: 'frameTooLarge',
    bytes: () => {
      const body = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES + 1024 * 1024, 0xa5);
      return [encodeFrame([body])];
    },
  },
  { name: 'a length of zero (no room for the version byte)', reason: 'badLength', bytes: () => [Buffer.from([0, 0, 0, 0, 1])] },
  // Only the 4 length bytes and then silence: judged on the length alone, not left to the handshake timeout.
  { name: 'a zero length prefix and nothing after it', reason: 'badLength', bytes: () => [Buffer.from([0, 0, 0, 0])], withinMs: 2_000 },
  { name: 'an oversized length prefix and nothing after it', reason: 'frameTooLarge', bytes: () => [Buffer.from([0xff, 0xff, 0xff, 0xff])], withinMs: 2_000 },
  { name: 'a frame of an unknown version', reason: 'unknownVersion', bytes: () => [encodeFrame([encodeHello({ kind: 'hello', from: 'intruder', to: 'node1', clusterId: null })], 9)] },
  { name: 'a frame whose body is not CBOR', reason: 'badCbor', bytes: () => [encodeFrame([Buffer.from([0xff, 0xfe, 0x1c, 0x00, 0x5f])])] },
  { name: 'a hello of the wrong shape', reason: 'badShape', bytes: () => [encodeFrame([encode({ kind: 'hello', from: 42, to: ['x'] })])] },
  {
    name: 'a valid hello, then a batch of the wrong shape',
    reason: 'badShape',
    bytes: () => [encodeFrame([encodeHello({ kind: 'hello', from: 'node9', to: 'node1', clusterId })]), encodeFrame([encode({ from: 'node9', clusterId, messages: [{ type: 'app', term: -1 }] })])],
  },
];

describe('garbage, oversized and wrong-version frames on the peer port', () => {
  for (const peerCase of peerCases) {
    test(`${peerCase.name}: that connection is closed, the node keeps running, data intact`, async () => {
      await guarded(async () => {
        const target = nodes[0]!;
        const before = dropLogLines(target, peerCase.reason);
        const result = await sendToPeerPort(target, peerCase.bytes(), peerCase.withinMs);
        assert.ok(result.closedByPeer, `the node closed the connection${peerCase.withinMs ? ` within ${peerCase.withinMs} ms` : ''}`);
        await waitForDropLog(target, peerCase.reason, before);
        await assertHealthy();
      });
    });
  }

  test('a hello that gives the node its own id is refused, the connection closed', async () => {
    await guarded(async () => {
      const target = nodes[1]!;
      const result = await sendToPeerPort(target, [encodeFrame([encodeHello({ kind: 'hello', from: target.name, to: target.name, clusterId })])]);
      assert.ok(result.closedByPeer, 'the node closed the connection');
      assert.ok(result.received.length > 5, 'the node answered the hello');
      const reply = wire.decode(result.received.subarray(5)) as { kind: string; reason: string };
      assert.equal(reply.kind, 'refused');
      assert.match(reply.reason, /own|itself|this node/i);
      await assertHealthy();
    });
  });
});

// --- the client API --------------------------------------------------------------------------

interface RawAnswer {
  status: number;
  body: { error?: { code: string; message: string } };
}

function rawRequest(node: BrambleNode, method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}, withCertificate = true): Promise<RawAnswer> {
  const [host, port] = node.clientAddress.split(':');
  const tls = withCertificate ? node.tls : { ca: node.tls.ca, checkServerIdentity: node.tls.checkServerIdentity };
  return new Promise((resolve, reject) => {
    const outgoing = request({ ...tls, agent: false, host, port: Number(port), method, path, headers: { 'content-type': 'application/cbor', ...headers }, timeout: 10_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, body: bytes.length > 0 ? (wire.decode(bytes) as RawAnswer['body']) : {} });
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    // A server that refuses a too-large body may close before reading it all: take its answer.
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const cbor = (value: unknown) => wire.encode(value);

const clientCases: { name: string; method?: string; path: string; body?: () => Uint8Array; status: number; code: string; message: RegExp; anonymous?: boolean }[] = [
  { name: 'a valid put without a client certificate', path: '/v1/kv/put', body: () => cbor({ key: Buffer.from('/before/0'), value: Buffer.from('stolen') }), status: 401, code: 'unauthorized', message: /client certificate of this cluster/, anonymous: true },
  { name: 'a body that is not CBOR', path: '/v1/kv/put', body: () => Buffer.from([0xff, 0xff, 0xff]), status: 400, code: 'invalid-request', message: /not CBOR/ },
  { name: 'an array of 4 million one-byte integers (4 MiB, 0.36 s for cbor-x)', path: '/v1/kv/put', body: () => Buffer.concat([Buffer.from([0x9a, 0x00, 0x3f, 0xff, 0xf0]), Buffer.alloc(0x3ffff0, 0x01)]), status: 400, code: 'invalid-request', message: /^the request body has more than 10000 CBOR items$/ },
  { name: '4 MiB of nested one-element arrays', path: '/v1/kv/put', body: () => Buffer.alloc(4 * 1024 * 1024, 0x81), status: 400, code: 'invalid-request', message: /^the request body nests deeper than 32 CBOR levels$/ },
  { name: 'a CBOR array instead of a map', path: '/v1/kv/put', body: () => cbor([1, 2, 3]), status: 400, code: 'invalid-request', message: /CBOR map/ },
  { name: 'a put without a key', path: '/v1/kv/put', body: () => cbor({ value: Buffer.from('v') }), status: 400, code: 'invalid-request', message: /key/ },
  { name: 'a put whose key is a number', path: '/v1/kv/put', body: () => cbor({ key: 7, value: Buffer.from('v') }), status: 400, code: 'invalid-request', message: /key/ },
  { name: 'a put with an empty key', path: '/v1/kv/put', body: () => cbor({ key: Buffer.alloc(0), value: Buffer.from('v') }), status: 400, code: 'invalid-request', message: /key/ },
  { name: 'a put with an unknown field', path: '/v1/kv/put', body: () => cbor({ key: Buffer.from('/before/0'), value: Buffer.from('x'), lease: 5 }), status: 400, code: 'invalid-request', message: /lease/ },
  { name: 'a range whose key is a string', path: '/v1/kv/range', body: () => cbor({ key: '/before/0' }), status: 400, code: 'invalid-request', message: /key/ },
  { name: 'a range with a negative limit', path: '/v1/kv/range', body: () => cbor({ prefix: Buffer.from('/before/'), limit: -1 }), status: 400, code: 'invalid-request', message: /limit/ },
  { name: 'a range with serializable not a boolean', path: '/v1/kv/range', body: () => cbor({ key: Buffer.from('/before/0'), serializable: 'yes' }), status: 400, code: 'invalid-request', message: /serializable/ },
  { name: 'a txn with a bad compare target', path: '/v1/kv/txn', body: () => cbor({ compare: [{ key: Buffer.from('/before/0'), target: 'lease', result: '=', value: 1 }], success: [], failure: [] }), status: 400, code: 'invalid-request', message: /target/ },
  { name: 'a txn that is not a list of operations', path: '/v1/kv/txn', body: () => cbor({ compare: [], success: 'all', failure: [] }), status: 400, code: 'invalid-request', message: /success/ },
  { name: 'a delete of a range with an unknown field', path: '/v1/kv/deleterange', body: () => cbor({ key: Buffer.from('/before/1'), everything: true }), status: 400, code: 'invalid-request', message: /everything/ },
  { name: 'a compact without a revision', path: '/v1/kv/compact', body: () => cbor({ revision: 'latest' }), status: 400, code: 'invalid-request', message: /revision/ },
  { name: 'a compact at a future revision', path: '/v1/kv/compact', body: () => cbor({ revision: 1_000_000 }), status: 400, code: 'future-revision', message: /revision 1000000.*store is at revision \d+/ },
  { name: 'a join without a peer address', path: '/v1/cluster/members', body: () => cbor({ name: 'node9' }), status: 400, code: 'invalid-request', message: /peerAddress/ },
  { name: 'an unknown path', path: '/v1/kv/everything', body: () => cbor({}), status: 404, code: 'not-found', message: /\/v1\/kv\/everything/ },
  { name: 'GET on a POST endpoint', method: 'GET', path: '/v1/kv/put', status: 405, code: 'method-not-allowed', message: /POST/ },
  { name: 'a body over 4 MiB', path: '/v1/kv/put', body: () => Buffer.alloc(4 * 1024 * 1024 + 1, 0x41), status: 413, code: 'too-large', message: /limit/ },
];

describe('malformed bodies on the client API', () => {
  for (const clientCase of clientCases) {
    test(`${clientCase.name}: ${clientCase.status} ${clientCase.code} with a precise message`, async () => {
      await guarded(async () => {
        const answer = await rawRequest(nodes[2]!, clientCase.method ?? 'POST', clientCase.path, clientCase.body?.(), {}, !clientCase.anonymous);
        assert.equal(answer.status, clientCase.status, `status (body ${JSON.stringify(answer.body)})`);
        assert.equal(answer.body.error?.code, clientCase.code);
        assert.match(answer.body.error?.message ?? '', clientCase.message);
        await assertHealthy();
      });
    });
  }

  test('after every bad request the data written before is unchanged and the revision moved only by our own writes', async () => {
    await guarded(async () => {
      const status = await statusOf(nodes[0]!);
      assert.ok(status, 'node1 answers its status');
      // Counted as they commit, so a test that failed earlier (and skipped its own write) does
      // not fail this one too; nothing but those writes may have moved the revision.
      assert.equal(status.revision, ourWrites, `no bad request changed the store (${ourWrites} writes of our own)`);
    });
  });
});
