import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isConfigMapKey, isDns1123Label, isDns1123Subdomain, isEnvVarName, isQualifiedName, isValidIp, isValidLabelValue, isValidPortName } from '../../../../src/api/resources/names.ts';

test('names: DNS-1123 label and subdomain', () => {
  for (const ok of ['a', 'my-name', '123-abc', 'x'.repeat(63)]) assert.deepEqual(isDns1123Label(ok), [], ok);
  for (const bad of ['', 'My', '-a', 'a-', 'a.b', 'a_b']) assert.match(isDns1123Label(bad).join(), /a lowercase RFC 1123 label must consist of/, bad);
  assert.deepEqual(isDns1123Label('x'.repeat(64)), ['must be no more than 63 characters']);
  for (const ok of ['example.com', 'a', 'a.b-c.d']) assert.deepEqual(isDns1123Subdomain(ok), [], ok);
  for (const bad of ['Foo', 'a..b', '.a', 'a.', 'a/b']) assert.match(isDns1123Subdomain(bad).join(), /regex used for validation is '\[a-z0-9\]/, bad);
  assert.deepEqual(isDns1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
});

test('names: qualified names (label keys) and label values', () => {
  for (const ok of ['app', 'app.kubernetes.io/name', 'MyName', 'a_b.c-d', 'x'.repeat(63)]) assert.deepEqual(isQualifiedName(ok), [], ok);
  assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
  assert.deepEqual(isQualifiedName('a/'), ['name part must be non-empty']);
  assert.match(isQualifiedName('a/b/c').join(), /with an optional DNS subdomain prefix/);
  assert.match(isQualifiedName('Foo_/x').join(), /^prefix part a lowercase RFC 1123 subdomain/);
  assert.deepEqual(isQualifiedName('x'.repeat(64)), ['name part must be no more than 63 characters']);
  for (const ok of ['', 'MyValue', 'my_value', '12345']) assert.deepEqual(isValidLabelValue(ok), [], ok);
  for (const bad of ['-a', 'a b', 'a/b']) assert.match(isValidLabelValue(bad).join(), /a valid label must be an empty string/, bad);
});

test('names: config keys, env names, port names, IPs', () => {
  assert.deepEqual(isConfigMapKey('game.properties'), []);
  assert.match(isConfigMapKey('a/b').join(), /a valid config key/);
  assert.deepEqual(isConfigMapKey('..a'), ["must not start with '..'"]);
  assert.deepEqual(isEnvVarName('MY_ENV.NAME'), []);
  assert.match(isEnvVarName('1ABC').join(), /must not start with a digit/);
  assert.deepEqual(isValidPortName('http'), []);
  assert.ok(isValidPortName('12').includes('must contain at least one letter (a-z)'));
  assert.ok(isValidPortName('a--b').includes('must not contain consecutive hyphens'));
  assert.ok(isValidPortName('abcdefghijklmnop').includes('must be no more than 15 characters'));
  assert.deepEqual(isValidIp('10.0.0.1'), []);
  assert.deepEqual(isValidIp('fd00::1'), []);
  assert.equal(isValidIp('10.0.0.256').length, 1);
  assert.equal(isValidIp('pi-1').length, 1);
});
