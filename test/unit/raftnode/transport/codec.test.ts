import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from 'cbor-x';
import { BatchEncoder, decodeBody, encodeHello, encodeMessage } from '../../../../src/raftnode/transport/codec.ts';
import { ProtocolError } from '../../../../src/raftnode/transport/errors.ts';
import { encodeFrame, FrameDecoder } from '../../../../src/raftnode/transport/frame.ts';
import { parseBatch, parseHello, parseHelloReply, parseMessage } from '../../../../src/raftnode/transport/validate.ts';
import { everyShape, message } from './helpers.ts';

function roundTrip(batchEncoder: BatchEncoder, messages = everyShape('a', 'b')): ReturnType<typeof parseBatch> {
  const frame = encodeFrame(batchEncoder.bodyParts(messages.map(encodeMessage)));
  const { frames, error } = new FrameDecoder(16 * 1024 * 1024).push(frame);
  assert.equal(error, null);
  const [only] = frames;
  assert.ok(only);
  return parseBatch(decodeBody(only.body));
}

function shapeError<T>(value: T, parse: (value: T) => unknown): ProtocolError {
  try {
    parse(value);
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    return error;
  }
  assert.fail('expected a ProtocolError');
}

describe('codec and validation', () => {
  test('a batch round-trips every message shape, with and without a cluster id', () => {
    assert.deepStrictEqual(roundTrip(new BatchEncoder('a', undefined)), { from: 'a', messages: everyShape('a', 'b') });
    assert.deepStrictEqual(roundTrip(new BatchEncoder('a', 'c1')), { from: 'a', clusterId: 'c1', messages: everyShape('a', 'b') });
  });

  test('array headers of every size class (0, 23, 24, 255, 256, 70000 messages)', () => {
    const encoder = new BatchEncoder('a', undefined);
    for (const count of [0, 23, 24, 255, 256, 70_000]) {
      const messages = Array.from({ length: count }, (_, i) => message('a', 'b', { type: 'heartbeat', index: i }));
      const batch = roundTrip(encoder, messages);
      assert.equal(batch.messages.length, count);
      assert.equal(batch.messages.at(-1)?.index, count === 0 ? undefined : count - 1);
    }
  });

  test('fields a Message does not have are not sent', () => {
    const extra = { ...message('a', 'b'), secret: 'x', snapshot: undefined } as unknown as Parameters<typeof encodeMessage>[0];
    const decoded = decodeBody(encodeMessage(extra)) as Record<string, unknown>;
    assert.equal('secret' in decoded, false);
    assert.equal('snapshot' in decoded, false);
  });

  test('decoded byte fields are copies, not views of the frame buffer', () => {
    const body = encodeMessage(message('a', 'b', { context: new Uint8Array([1, 2, 3]) }));
    const parsed = parseMessage(decodeBody(body));
    assert.ok(parsed.context);
    assert.notEqual(parsed.context.buffer, body.buffer);
    assert.equal(parsed.context.buffer.byteLength, 3);
  });

  test('Buffers and untagged byte strings arrive as plain Uint8Arrays', () => {
    const parsed = parseMessage(decodeBody(encode({ ...message('a', 'b'), context: Buffer.from([7]) })));
    assert.equal(Object.getPrototypeOf(parsed.context), Uint8Array.prototype);
  });

  test('garbage is badCbor; trailing bytes too', () => {
    assert.equal(shapeError(Buffer.from([0xff, 0x00]), decodeBody).reason, 'badCbor');
    assert.equal(shapeError(Buffer.concat([encodeMessage(message('a', 'b')), Buffer.from([0])]), decodeBody).reason, 'badCbor');
  });

  test('wrong shapes name the first bad field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[1, 2], /^batch is not a map/],
      [{ from: 'a' }, /^batch\.messages is not an array/],
      [{ from: '', messages: [] }, /^batch\.from is not a node id/],
      [{ from: 'a', messages: [{ ...message('a', 'b'), type: 'bogus' }] }, /^batch\.messages\[0\]\.type is not one of/],
      [{ from: 'a', messages: [{ ...message('a', 'b'), term: -1 }] }, /^batch\.messages\[0\]\.term is not a non-negative integer/],
      [{ from: 'a', messages: [{ ...message('a', 'b'), term: 1.5 }] }, /term is not a non-negative integer/],
      [{ from: 'a', messages: [{ ...message('a', 'b'), reject: 0 }] }, /reject is not a boolean/],
      [{ from: 'a', messages: [{ ...message('a', 'b'), entries: [{ term: 1, index: 1, type: 'normal', data: 'text' }] }] }, /entries\[0\]\.data is not a byte string/],
      [{ from: 'a', messages: [{ ...message('a', 'b'), snapshot: { metadata: { index: 1, term: 1 }, data: new Uint8Array() } }] }, /snapshot\.metadata\.confState is not a map/],
      [{ from: 'a', clusterId: 5, messages: [] }, /batch\.clusterId is not a string/],
    ];
    for (const [value, expected] of cases) {
      const error = shapeError(decodeBody(encode(value)), parseBatch);
      assert.equal(error.reason, 'badShape');
      assert.match(error.message, expected);
    }
  });

  test('handshake frames', () => {
    assert.deepStrictEqual(parseHello(decodeBody(encodeHello({ kind: 'hello', from: 'a', to: 'b', clusterId: null }))), { kind: 'hello', from: 'a', to: 'b', clusterId: null });
    assert.match(shapeError({ from: 'a', messages: [] }, parseHello).message, /first frame on a connection must be the handshake/);
    assert.deepStrictEqual(parseHelloReply({ kind: 'refused', reason: 'no' }), { kind: 'refused', reason: 'no' });
    assert.equal(shapeError({ kind: 'maybe' }, parseHelloReply).reason, 'badShape');
  });
});
