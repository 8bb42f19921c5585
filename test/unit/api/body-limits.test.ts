// The shape limits on JSON and YAML request bodies: each hostile body, byte for byte, and the
// exact refusal; bodies just inside the limits and ordinary manifests still decode as before.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse as yamlParse } from 'yaml';
import { BODY_LIMITS, BodyLimitError, BodySyntaxError, checkJsonShape, parseJsonBounded, parseYamlBounded } from '../../../src/api/body-limits.ts';

const nested = (levels: number, inner = '') => '['.repeat(levels) + inner + ']'.repeat(levels);
const tooDeep = { name: 'BodyLimitError', message: 'the request body nests deeper than 100 levels' };
const tooManyValues = { name: 'BodyLimitError', message: 'the request body has more than 100000 values' };

/** The alias bomb of issue 16's family: each level nine aliases of the previous one. */
function aliasBomb(levels: number): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < levels; i++) {
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

describe('the limits', () => {
  test('are 100 levels, 100 000 values, 1 000 000 YAML tokens and 100 alias expansions', () => {
    assert.deepEqual(BODY_LIMITS, { maxDepth: 100, maxValues: 100_000, maxYamlTokens: 1_000_000, maxYamlAliases: 100 });
  });
});

describe('JSON bodies', () => {
  test('the 2.8 MB body of issue 16 (1.4 million levels) is refused by the scan, before JSON.parse', () => {
    const body = `{"extra":${nested(1_400_000)}}`;
    assert.equal(body.length, 2_800_010);
    assert.throws(() => parseJsonBounded(body), tooDeep);
  });

  test('100 levels decode; 101 are refused, objects and arrays alike', () => {
    assert.deepEqual(checkJsonShape(nested(100)), undefined);
    assert.equal(JSON.stringify(parseJsonBounded(nested(100))), nested(100));
    assert.throws(() => parseJsonBounded(nested(101)), tooDeep);
    const objects = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    assert.equal(JSON.stringify(parseJsonBounded(objects(100))), objects(100));
    assert.throws(() => parseJsonBounded(objects(101)), tooDeep);
  });

  test('brackets, braces and escaped quotes inside strings are not nesting', () => {
    const text = JSON.stringify({ a: '['.repeat(500) + '\\"{{{' + '"'.repeat(3), b: ['x\\', '{'] });
    assert.deepEqual(parseJsonBounded(text), JSON.parse(text));
  });

  test('a flat array of 1.4 million numbers (2.8 MB) is refused past 100 000 values', () => {
    const body = `{"extra":[${'1,'.repeat(1_400_000)}1]}`;
    assert.throws(() => parseJsonBounded(body), tooManyValues);
  });

  test('100 000 values (keys, strings, numbers, literals and containers) decode; one more is refused', () => {
    // The object, the key "a", the array, then 99 997 elements: 100 000 values.
    const at = (n: number) => `{"a":[${Array(n).fill('null').join(',')}]}`;
    assert.equal((parseJsonBounded(at(99_997)) as { a: unknown[] }).a.length, 99_997);
    assert.throws(() => parseJsonBounded(at(99_998)), tooManyValues);
  });

  test('invalid JSON is a syntax error with JSON.parse\'s words', () => {
    assert.throws(() => parseJsonBounded('{"a": [1, 2}'), (error: Error) => error instanceof BodySyntaxError && /Unexpected|Expected/.test(error.message));
  });
});

describe('YAML bodies', () => {
  test('the 2.8 MB body of issue 16 (extra: [[[[…]]]], 1.4 million levels) is refused at level 101', () => {
    const body = `extra: ${nested(1_400_000)}\n`;
    assert.equal(body.length, 2_800_008);
    assert.throws(() => parseYamlBounded(body), tooDeep);
  });

  test('1.4 million nested block sequences on one line (- - - … x) are refused at level 101', () => {
    assert.throws(() => parseYamlBounded('- '.repeat(1_400_000) + 'x\n'), tooDeep);
  });

  test('100 levels of flow or block nesting decode; 101 are refused', () => {
    assert.equal(JSON.stringify(parseYamlBounded(nested(100))), nested(100));
    assert.throws(() => parseYamlBounded(nested(101)), tooDeep);
    const block = (levels: number) => Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    assert.deepEqual(parseYamlBounded(block(100)), yamlParse(block(100)));
    assert.throws(() => parseYamlBounded(block(101)), tooDeep);
  });

  test('aliases that nest a value past 100 levels are refused, and so is an alias to its own ancestor', () => {
    assert.throws(() => parseYamlBounded(`a: &x ${nested(60)}\nb: ${nested(60, '*x')}\n`), tooDeep);
    assert.throws(() => parseYamlBounded('a: &x [1, *x]\n'), tooDeep);
  });

  test('a flat sequence of 1.4 million numbers (2.8 MB) is refused past 100 000 values', () => {
    assert.throws(() => parseYamlBounded(`extra: [${'1,'.repeat(1_400_000)}]\n`), tooManyValues);
  });

  test('1.4 million comment lines (2.8 MB, no value at all) are refused past 1 000 000 tokens', () => {
    assert.throws(() => parseYamlBounded('#\n'.repeat(1_400_000)), { name: 'BodyLimitError', message: 'the request body has more than 1000000 YAML tokens' });
  });

  test('an alias bomb (nine aliases a level, 4 levels) is refused without being expanded', () => {
    assert.throws(() => parseYamlBounded(aliasBomb(4)), { name: 'BodyLimitError', message: "the request body's YAML aliases expand past the limit of 100" });
    assert.throws(() => parseYamlBounded(aliasBomb(12)), { name: 'BodyLimitError', message: "the request body's YAML aliases expand past the limit of 100" });
  });

  test('a few aliases decode to shared values, as before', () => {
    assert.deepEqual(parseYamlBounded('a: &x {p: 1}\nb: [*x, *x]\n'), { a: { p: 1 }, b: [{ p: 1 }, { p: 1 }] });
  });

  test('duplicate keys are refused where the second one is, in a map of 40 000 keys too', () => {
    assert.throws(() => parseYamlBounded('a: 1\nb: 2\na: 3\n'), { name: 'BodySyntaxError', message: 'Map keys must be unique at line 3, column 1' });
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: ${i}`);
    assert.equal(Object.keys(parseYamlBounded(keys.join('\n') + '\n') as object).length, 40_000);
    assert.throws(() => parseYamlBounded([...keys, 'k7: again'].join('\n') + '\n'), { name: 'BodySyntaxError', message: 'Map keys must be unique at line 40001, column 1' });
  });

  test('a second document is refused', () => {
    assert.throws(() => parseYamlBounded('a: 1\n---\nb: 2\n'), { name: 'BodySyntaxError', message: 'the request body holds more than one YAML document (the second starts at line 2); send one object per request' });
  });

  test('a syntax error says where it is', () => {
    assert.throws(() => parseYamlBounded('kind: ConfigMap\n  metadata: [\n'), (error: Error) => error instanceof BodySyntaxError && / at line \d+, column \d+$/.test(error.message));
  });

  test('an ordinary manifest decodes as YAML.parse decodes it', () => {
    const manifest = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web',
      '  labels: {app: web, "tier": \'front\'}',
      'spec:',
      '  replicas: 2',
      '  template:',
      '    spec:',
      '      containers:',
      '      - name: nginx',
      '        image: nginx:1.25',
      '        args: ["-g", "daemon off;"]',
      '        env:',
      '        - {name: A, value: "1"}',
      '        command:',
      '        - sh',
      '        - -c',
      '        - |',
      '          echo [not a list] {nor a map}',
      '          # nor a comment',
      '',
    ].join('\n');
    assert.deepEqual(parseYamlBounded(manifest), yamlParse(manifest));
    assert.equal(parseYamlBounded(''), null);
  });

  test('limits are errors of their own class, not syntax errors', () => {
    assert.throws(() => parseYamlBounded(nested(101)), BodyLimitError);
  });
});
