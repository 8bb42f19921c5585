// The DNS load program of bench:service, run in a pod's network namespace (nsenter --net=...):
//   node dns-probe.mjs <server-ip> <name> <seconds> <outstanding>
// keeps <outstanding> A queries for <name> in flight over UDP for <seconds> (closed loop: a new
// query as each answer arrives), then prints one JSON line: queries, answers, timeouts (no answer
// within 1 s), queries/s, and the latency p50/p99 of the answered ones. Plain JavaScript (no tsx)
// so it starts in a fraction of a second inside a namespace.
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

const [server, name, secondsText, outstandingText] = process.argv.slice(2);
const seconds = Number(secondsText);
const outstanding = Number(outstandingText);
if (!server || !name || !(seconds > 0) || !(outstanding > 0)) {
  console.error('usage: dns-probe.mjs <server-ip> <name> <seconds> <outstanding>');
  process.exit(2);
}

const TIMEOUT_MS = 1_000;
const socket = createSocket('udp4');
/** Query id -> send time; ids are reused only after their query ended. */
const inFlight = new Map();
const latencies = [];
let sent = 0;
let timeouts = 0;
let nextId = 0;
const start = performance.now();
const endAt = start + seconds * 1000;

function send() {
  if (performance.now() >= endAt) return;
  do nextId = (nextId + 1) & 0xffff;
  while (inFlight.has(nextId));
  const id = nextId;
  inFlight.set(id, performance.now());
  sent++;
  socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
}

socket.on('message', (message) => {
  const id = message.readUInt16BE(0);
  const sentAt = inFlight.get(id);
  if (sentAt === undefined) return;
  inFlight.delete(id);
  latencies.push(performance.now() - sentAt);
  send();
});

const sweeper = setInterval(() => {
  const now = performance.now();
  for (const [id, sentAt] of inFlight) {
    if (now - sentAt < TIMEOUT_MS) continue;
    inFlight.delete(id);
    timeouts++;
    send();
  }
  if (now >= endAt && inFlight.size === 0) finish();
}, 50);

function finish() {
  clearInterval(sweeper);
  socket.close();
  const elapsedS = (performance.now() - start) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
  console.log(JSON.stringify({ queries: sent, answers: sorted.length, timeouts, queriesPerS: sorted.length / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99) }));
}

socket.bind(() => {
  for (let i = 0; i < outstanding; i++) send();
});
