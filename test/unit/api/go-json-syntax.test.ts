// Go's encoding/json syntax check and its messages (scanner.go), as a Kubernetes server answers
// them for a damaged continue token: each input with the message Go's checkValid gives for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goJsonSyntaxError, goQuoteByte } from '../../../src/api/go-json-syntax.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

test('inputs Go accepts', () => {
  for (const ok of ['{"v":"meta.k8s.io/v1","rv":12,"start":"cm-01\\u0000"}', ' 1 ', 'null', '[]', '{}', '-0.5e+3', '[{"a":[true,false,null]}]', '"\\ud83d\\ude00"', '{"a":"\u00e9"}']) {
    assert.equal(goJsonSyntaxError(bytes(ok)), undefined, ok);
  }
});

test('the first syntax error, in Go\'s words', () => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['   ', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"v":"meta.k8s.', 'unexpected end of JSON input'],
    ['{"v":"meta.k8s.io/v1","rv":12', 'unexpected end of JSON input'],
    ['{"start":"cm-01\\', "invalid character ' ' in string escape code"],
    ['hello', "invalid character 'h' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', 'invalid character \'"\' after object key:value pair'],
    ['[1 2]', "invalid character '2' after array element"],
    ['{} x', "invalid character 'x' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['nul', "invalid character ' ' in literal null (expecting 'l')"],
    ['fxlse', "invalid character 'x' in literal false (expecting 'a')"],
    ['{"a":"\\q"}', "invalid character 'q' in string escape code"],
    ['"\\u12x4"', "invalid character 'x' in \\u hexadecimal character escape"],
    ['1.', "invalid character ' ' after decimal point in numeric literal"],
    ['-', "invalid character ' ' in numeric literal"],
    ['1e', "invalid character ' ' in exponent of numeric literal"],
    ['{1:2}', "invalid character '1' looking for beginning of object key string"],
    ['{"a",', "invalid character ',' after object key"],
    ['"a\u0001"', "invalid character '\\x01' in string literal"],
    ['\u0081', "invalid character '\\u0081' looking for beginning of value"],
    ['\'', "invalid character '\\'' looking for beginning of value"],
    ['\u00e9', "invalid character 'é' looking for beginning of value"],
    ['['.repeat(10_001), "invalid character '[' exceeded max depth"],
  ];
  for (const [input, message] of cases) assert.equal(goJsonSyntaxError(bytes(input)), message, JSON.stringify(input));
});

test('quoteChar: Go\'s strconv.Quote escapes for a byte', () => {
  assert.deepEqual([0x41, 0x22, 0x27, 0x5c, 0x0a, 0x00, 0x7f, 0x80, 0xa0, 0xa1, 0xad, 0xff].map(goQuoteByte), ["'A'", '\'"\'', "'\\''", "'\\\\'", "'\\n'", "'\\x00'", "'\\x7f'", "'\\u0080'", "'\\u00a0'", "'¡'", "'\\u00ad'", "'ÿ'"]);
});
