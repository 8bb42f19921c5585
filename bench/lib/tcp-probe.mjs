// The one TCP program of bench:podnet and bench:service, run in a network namespace (nsenter --net=...) so that the
// pod path and the board path are measured by the same code; only the path between them differs.
//   node tcp-probe.mjs server <ip> <port>          prints "listening", then serves until killed:
//     a connection starting with "E" is echoed back, one starting with "B" is a sink that answers
//     the byte count when the client ends its side.
//   node tcp-probe.mjs rr <ip> <port> <requests> <bytes>     request/response latency, one JSON line
//   node tcp-probe.mjs bulk <ip> <port> <seconds>            bulk throughput, one JSON line
//   node tcp-probe.mjs conn <ip> <port> <connections> <bytes>
//     a new connection per exchange (connect, request, response, close): what a NAT rule costs
//     shows here, since only a connection's first packet goes through the rules
// Plain JavaScript (no tsx): it starts in a fraction of a second inside a namespace.
import { createConnection, createServer } from 'node:net';

const [mode, host, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);

function serve() {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    let kind;
    let received = 0;
    socket.on('data', (chunk) => {
      if (kind === undefined) {
        kind = String.fromCharCode(chunk[0]);
        chunk = chunk.subarray(1);
      }
      if (kind === 'E') socket.write(chunk);
      else received += chunk.length;
    });
    socket.on('end', () => socket.end(kind === 'B' ? `${received}\n` : undefined));
    socket.on('error', () => socket.destroy());
  });
  server.listen(port, host, () => console.log('listening'));
}

function connect() {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** Nearest-rank percentile of an ascending array. */
const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function requestResponse(requests, bytes) {
  const socket = await connect();
  socket.write('E');
  const payload = Buffer.alloc(bytes, 0x61);
  const latencies = [];
  let pending = 0;
  let done;
  socket.on('data', (chunk) => {
    pending -= chunk.length;
    if (pending <= 0) done();
  });
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    pending = bytes;
    await new Promise((resolve) => {
      done = resolve;
      socket.write(payload);
    });
    latencies.push(performance.now() - start);
  }
  socket.end();
  // The first tenth warms up the path (ARP, conntrack, the JIT): not counted.
  const sorted = latencies.slice(Math.floor(requests / 10)).sort((a, b) => a - b);
  console.log(JSON.stringify({ requests: sorted.length, bytes, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) }));
}

async function connectionPerRequest(connections, bytes) {
  const payload = Buffer.concat([Buffer.from('E'), Buffer.alloc(bytes, 0x61)]);
  const latencies = [];
  for (let i = 0; i < connections; i++) {
    const start = performance.now();
    const socket = await connect();
    await new Promise((resolve, reject) => {
      let received = 0;
      socket.on('data', (chunk) => {
        received += chunk.length;
        if (received >= bytes) resolve();
      });
      socket.once('error', reject);
      socket.write(payload);
    });
    latencies.push(performance.now() - start);
    socket.destroy();
  }
  const sorted = latencies.slice(Math.floor(connections / 10)).sort((a, b) => a - b);
  console.log(JSON.stringify({ connections: sorted.length, bytes, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) }));
}

async function bulk(seconds) {
  const socket = await connect();
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  socket.write('B');
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    sent += chunk.length;
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  let answer = '';
  socket.on('data', (data) => (answer += data));
  await new Promise((resolve) => {
    socket.on('end', resolve);
    socket.end();
  });
  // Until the sink counted every byte: what left the client's buffers only is not throughput.
  const elapsedS = (performance.now() - start) / 1000;
  const received = Number(answer.trim());
  console.log(JSON.stringify({ seconds: elapsedS, sentBytes: sent, receivedBytes: received, mbitPerS: (received * 8) / 1e6 / elapsedS }));
}

if (mode === 'server') serve();
else if (mode === 'rr') await requestResponse(Number(rest[0]), Number(rest[1]));
else if (mode === 'bulk') await bulk(Number(rest[0]));
else if (mode === 'conn') await connectionPerRequest(Number(rest[0]), Number(rest[1]));
else {
  console.error('usage: tcp-probe.mjs server|rr|bulk|conn <ip> <port> ...');
  process.exit(2);
}
