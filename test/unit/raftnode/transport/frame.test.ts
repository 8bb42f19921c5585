import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, PROTOCOL_VERSION } from '../../../../src/raftnode/transport/frame.ts';

const maxFrameBytes = 1024;

function frameOf(text: string, version = PROTOCOL_VERSION): Buffer {
  return encodeFrame([Buffer.from(text)], version);
}

function header(length: number, version: number): Buffer {
  const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
  bytes.writeUInt32BE(length, 0);
  bytes[4] = version;
  return bytes;
}

function bodies(decoder: FrameDecoder, chunks: Buffer[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    const { frames, error } = decoder.push(chunk);
    assert.equal(error, null);
    for (const frame of frames) out.push(frame.body.toString());
  }
  return out;
}

describe('frames', () => {
  test('layout: u32 big-endian length of what follows, version byte, body', () => {
    const frame = encodeFrame([Buffer.from('ab'), Buffer.from('c')]);
    assert.deepStrictEqual([...frame], [0, 0, 0, 4, PROTOCOL_VERSION, 0x61, 0x62, 0x63]);
  });

  test('a frame split into 1-byte chunks decodes once whole', () => {
    const stream = Buffer.concat([frameOf('first'), frameOf('second')]);
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    assert.deepStrictEqual(bodies(new FrameDecoder(maxFrameBytes), chunks), ['first', 'second']);
  });

  test('many frames in one chunk, and a chunk boundary inside the header', () => {
    const stream = Buffer.concat([frameOf('a'), frameOf('bb'), frameOf('ccc'), frameOf('dddd')]);
    const decoder = new FrameDecoder(maxFrameBytes);
    assert.deepStrictEqual(bodies(decoder, [stream.subarray(0, 17), stream.subarray(17)]), ['a', 'bb', 'ccc', 'dddd']);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('every split point of a two-frame stream gives the same frames', () => {
    const stream = Buffer.concat([frameOf('hello'), frameOf('world!')]);
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      assert.deepStrictEqual(bodies(new FrameDecoder(maxFrameBytes), [stream.subarray(0, cut), stream.subarray(cut)]), ['hello', 'world!'], `cut at ${cut}`);
    }
  });

  test('an oversized length is refused from the header alone', () => {
    const result = new FrameDecoder(maxFrameBytes).push(header(0xffffffff, PROTOCOL_VERSION));
    assert.equal(result.error?.reason, 'frameTooLarge');
    assert.match(result.error?.message ?? '', /exceeds maxFrameBytes 1024/);
  });

  test('the limit counts the whole frame', () => {
    const fits = encodeFrame([Buffer.alloc(maxFrameBytes - FRAME_HEADER_BYTES)]);
    assert.equal(fits.byteLength, maxFrameBytes);
    assert.equal(new FrameDecoder(maxFrameBytes).push(fits).frames.length, 1);
    const tooBig = encodeFrame([Buffer.alloc(maxFrameBytes - FRAME_HEADER_BYTES + 1)]);
    assert.equal(new FrameDecoder(maxFrameBytes).push(tooBig).error?.reason, 'frameTooLarge');
  });

  test('a length too small for version and body is refused', () => {
    assert.equal(new FrameDecoder(maxFrameBytes).push(header(1, PROTOCOL_VERSION)).error?.reason, 'badLength');
    assert.equal(new FrameDecoder(maxFrameBytes).push(header(0, PROTOCOL_VERSION)).error?.reason, 'badLength');
  });

  test('an unknown version is refused before the body arrives', () => {
    const result = new FrameDecoder(maxFrameBytes).push(header(100, 9));
    assert.equal(result.error?.reason, 'unknownVersion');
    assert.match(result.error?.message ?? '', /version 9 is not supported \(this node speaks 1\)/);
  });

  test('frames before a fault in the same chunk are still returned; the decoder stays broken', () => {
    const decoder = new FrameDecoder(maxFrameBytes);
    const result = decoder.push(Buffer.concat([frameOf('good'), header(5, 42)]));
    assert.deepStrictEqual(
      result.frames.map((f) => f.body.toString()),
      ['good'],
    );
    assert.equal(result.error?.reason, 'unknownVersion');
    const after = decoder.push(frameOf('more'));
    assert.equal(after.frames.length, 0);
    assert.equal(after.error?.reason, 'unknownVersion');
  });
});
