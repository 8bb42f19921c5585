// decodeBody: JSON on the main thread behind the shape scan, YAML in the worker thread; each
// refusal is the exact 400 Status the API answers. The worker is real (node:worker_threads).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBody, YamlDecoder } from '../../../src/api/body-decoder.ts';
import { ApiError } from '../../../src/api/registry.ts';

const badRequest = (message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 });

async function statusOf(body: string, type: string): Promise<unknown> {
  try {
    await decodeBody(Buffer.from(body), type);
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
  assert.fail(`the body was decoded: ${body.slice(0, 60)}`);
}

describe('decodeBody', () => {
  test('the 2.8 MB YAML of issue 16 is a 400 BadRequest saying it nests deeper than 100 levels', async () => {
    const body = `extra: ${'['.repeat(1_400_000)}${']'.repeat(1_400_000)}\n`;
    assert.deepEqual(await statusOf(body, 'application/yaml'), badRequest('the request body nests deeper than 100 levels'));
  });

  test('the same depth in JSON, and in an apply-patch YAML, get the same answer', async () => {
    assert.deepEqual(await statusOf(`{"extra":${'['.repeat(1_400_000)}${']'.repeat(1_400_000)}}`, 'application/json'), badRequest('the request body nests deeper than 100 levels'));
    assert.deepEqual(await statusOf(`extra: ${'['.repeat(101)}${']'.repeat(101)}\n`, 'application/apply-patch+yaml; charset=utf-8'), badRequest('the request body nests deeper than 100 levels'));
  });

  test('too many values, an alias bomb, bad syntax: each its own 400', async () => {
    assert.deepEqual(await statusOf(`extra: [${'1,'.repeat(100_001)}]\n`, 'application/yaml'), badRequest('the request body has more than 100000 values'));
    assert.deepEqual(await statusOf(`{"extra":[${'1,'.repeat(100_001)}1]}`, 'application/json'), badRequest('the request body has more than 100000 values'));
    const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
    assert.deepEqual(await statusOf(bomb, 'application/yaml'), badRequest("the request body's YAML aliases expand past the limit of 100"));
    assert.deepEqual(await statusOf('a: 1\na: 2\n', 'application/yaml'), badRequest('the request body is not valid YAML: Map keys must be unique at line 2, column 1'));
    assert.deepEqual(await statusOf('{"a": ', 'application/json'), badRequest('the request body is not valid JSON: Unexpected end of JSON input'));
  });

  test('a manifest decodes, in YAML and in JSON', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  a: "1"\n';
    const expected = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } };
    assert.deepEqual(await decodeBody(Buffer.from(yaml), 'application/yaml'), expected);
    assert.deepEqual(await decodeBody(Buffer.from(JSON.stringify(expected)), 'application/json'), expected);
  });

  test('YAML is parsed off the main thread: timers run while a large body is parsed', async () => {
    // 90 000 values: seconds of the yaml library's work, none of it on this thread.
    const body = Buffer.from(`extra: [${'1,'.repeat(90_000)}]\n`);
    let ticks = 0;
    let parsing = true;
    const tick = () => {
      ticks++;
      if (parsing) setImmediate(tick);
    };
    const decoded = decodeBody(body, 'application/yaml');
    setImmediate(tick);
    const value = (await decoded) as { extra: number[] };
    parsing = false;
    assert.equal(value.extra.length, 90_000);
    // A parse on this thread would have finished before the first tick could run.
    assert.ok(ticks > 1, `only ${ticks} ticks ran while the body was parsed`);
  });

  test('bodies sent together are all answered, each with its own outcome', async () => {
    const outcomes = await Promise.allSettled([
      decodeBody(Buffer.from('a: 1\n'), 'application/yaml'),
      decodeBody(Buffer.from('['.repeat(101) + ']'.repeat(101)), 'application/yaml'),
      decodeBody(Buffer.from('b: [2]\n'), 'application/yaml'),
    ]);
    assert.deepEqual(outcomes[0], { status: 'fulfilled', value: { a: 1 } });
    assert.equal(outcomes[1]?.status, 'rejected');
    assert.deepEqual(outcomes[2], { status: 'fulfilled', value: { b: [2] } });
  });

  test('a body not decoded in time is a 503, and the next body gets a new worker', async () => {
    const decoder = new YamlDecoder();
    // A cold worker (loading tsx and yaml) and 90 000 values: far more than 50 ms.
    await assert.rejects(decoder.decode(Buffer.from(`extra: [${'1,'.repeat(90_000)}]\n`), 50), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.deepEqual(error.status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the YAML body was not decoded within 0.05 s; retry, or send it as JSON', reason: 'ServiceUnavailable', code: 503 });
      return true;
    });
    assert.deepEqual(await decoder.decode(Buffer.from('a: [1]\n')), { a: [1] });
  });
});
