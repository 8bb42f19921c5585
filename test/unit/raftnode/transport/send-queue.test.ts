import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type QueuedMessage, SendQueue } from '../../../../src/raftnode/transport/send-queue.ts';
import { message } from './helpers.ts';

function item(index: number, bytes: number): QueuedMessage {
  return { message: message('a', 'b', { index }), encoded: Buffer.alloc(bytes) };
}

const indexes = (items: QueuedMessage[]) => items.map((i) => i.message.index);

describe('SendQueue', () => {
  test('over the message bound, the oldest are evicted', () => {
    const queue = new SendQueue({ maxQueuedMessages: 3, maxQueuedBytes: 1000 });
    const dropped: QueuedMessage[] = [];
    for (let i = 1; i <= 5; i++) dropped.push(...queue.push(item(i, 10)));
    assert.deepStrictEqual(indexes(dropped), [1, 2]);
    assert.equal(queue.messages, 3);
    assert.equal(queue.bytes, 30);
    assert.deepStrictEqual(indexes(queue.clear()), [3, 4, 5]);
  });

  test('over the byte bound, as many of the oldest go as needed', () => {
    const queue = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 100 });
    for (let i = 1; i <= 4; i++) queue.push(item(i, 25));
    assert.deepStrictEqual(indexes(queue.push(item(5, 60))), [1, 2, 3]);
    assert.equal(queue.bytes, 85);
  });

  test('an item larger than the byte bound alone is refused and the queue kept', () => {
    const queue = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 100 });
    queue.push(item(1, 10));
    assert.deepStrictEqual(indexes(queue.push(item(2, 101))), [2]);
    assert.equal(queue.messages, 1);
  });

  test('take() returns the oldest items fitting the byte budget, at least one', () => {
    const queue = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 10_000 });
    queue.push(item(1, 500));
    for (let i = 2; i <= 6; i++) queue.push(item(i, 40));
    assert.deepStrictEqual(indexes(queue.take(100)), [1]);
    assert.deepStrictEqual(indexes(queue.take(100)), [2, 3]);
    assert.deepStrictEqual(indexes(queue.take(1000)), [4, 5, 6]);
    assert.deepStrictEqual(queue.take(1000), []);
    assert.equal(queue.bytes, 0);
  });

  test('stays consistent through many pushes and takes', () => {
    const queue = new SendQueue({ maxQueuedMessages: 50, maxQueuedBytes: 1_000_000 });
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 30; i++) queue.push(item(next++, 8));
      for (const taken of queue.take(20 * 8)) {
        assert.ok(taken.message.index >= expected);
        expected = taken.message.index + 1;
      }
      assert.equal(queue.bytes, queue.messages * 8);
      assert.ok(queue.messages <= 50);
    }
  });
});
