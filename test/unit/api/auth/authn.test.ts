import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addTokenUser, createAuthenticator, ensureAuthFiles } from '../../../../src/api/auth/authn.ts';
import type { Authenticator } from '../../../../src/api/auth/authn.ts';
import { makePki } from './pki-fixture.ts';
import { formatTokenLine, parseCsvLine, parseTokenFile, TokenFile, TokenFileError } from '../../../../src/api/auth/token-file.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bramble-authn-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function req(headers: Record<string, string>): IncomingMessage {
  // Token authentication only reads headers; a certificate needs a real TLS socket (tested below).
  return { headers, socket: {} } as unknown as IncomingMessage;
}

describe('token file (Kubernetes --token-auth-file CSV)', () => {
  test('parses quoted group lists, optional uid and groups, comments', () => {
    const entries = parseTokenFile('# comment\n\ntok1,alice,u1,"students,dev"\ntok2,bob,\ntok3,carol,u3,ops\n', 'f.csv');
    assert.deepEqual(entries, [
      { token: 'tok1', user: { username: 'alice', uid: 'u1', groups: ['students', 'dev'] } },
      { token: 'tok2', user: { username: 'bob', groups: [] } },
      { token: 'tok3', user: { username: 'carol', uid: 'u3', groups: ['ops'] } },
    ]);
  });

  test('CSV quoting: doubled quotes, commas inside quotes, leading spaces', () => {
    assert.deepEqual(parseCsvLine('a, "b,c",  "say ""hi"""'), ['a', 'b,c', 'say "hi"']);
    assert.throws(() => parseCsvLine('a,"open'), /unterminated/);
    assert.throws(() => parseCsvLine('a,b"c'), /quote inside an unquoted field/);
  });

  test('bad lines are refused with the file and line number', () => {
    assert.throws(() => parseTokenFile('ok,u,1\nonly,two\n', '/x/tokens.csv'), (err: unknown) => {
      assert.ok(err instanceof TokenFileError);
      assert.equal(err.line, 2);
      assert.match(err.message, /\/x\/tokens\.csv, line 2: 2 column\(s\), at least 3/);
      return true;
    });
    assert.throws(() => parseTokenFile(',user,1\n', 'f'), /line 1: empty token/);
    assert.throws(() => parseTokenFile('tok,,1\n', 'f'), /line 1: empty user name/);
  });

  test('formatTokenLine round-trips through the parser', () => {
    const entry = { token: 't0k', user: { username: 'a b', uid: 'x"y', groups: ['g1', 'g2'] } };
    assert.deepEqual(parseTokenFile(formatTokenLine(entry), 'f'), [entry]);
  });

  test('a changed file is re-read; a broken edit keeps the previous table and is reported', () => {
    const path = join(tmp, 'reload.csv');
    writeFileSync(path, 'first,alice,1\n');
    let nowMs = 0;
    const errors: Error[] = [];
    const file = new TokenFile(path, { now: () => nowMs, recheckIntervalMs: 1000, onReloadError: (e) => errors.push(e) });
    assert.equal(file.lookup('first')?.username, 'alice');
    writeFileSync(path, 'first,alice,1\nsecond,bob,2,students\n');
    assert.equal(file.lookup('second'), undefined, 'not re-checked within the interval');
    nowMs = 1000;
    assert.deepEqual(file.lookup('second'), { username: 'bob', uid: '2', groups: ['students'] });
    writeFileSync(path, 'first,alice,1\nbroken\n');
    nowMs = 2000;
    assert.equal(file.lookup('second')?.username, 'bob', 'previous table kept');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /line 2/);
  });
});

describe('authenticator: bearer tokens', () => {
  const path = join(tmp, 'tokens.csv');
  writeFileSync(path, 'student-token,alice,1001,"students,class-a"\n');
  const authn: Authenticator = createAuthenticator({ adminToken: 'admin-secret', tokenFile: path });

  test('the admin token is user admin in system:masters', async () => {
    assert.deepEqual(await authn.authenticate(req({ authorization: 'Bearer admin-secret' })), { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
  });

  test('a token from the file carries its uid and groups plus system:authenticated', async () => {
    assert.deepEqual(await authn.authenticate(req({ authorization: 'bearer student-token' })), {
      username: 'alice',
      uid: '1001',
      groups: ['students', 'class-a', 'system:authenticated'],
    });
  });

  test('no credentials, an unknown token, another scheme: null (the server answers 401)', async () => {
    assert.equal(await authn.authenticate(req({})), null);
    assert.equal(await authn.authenticate(req({ authorization: 'Bearer wrong' })), null);
    assert.equal(await authn.authenticate(req({ authorization: 'Basic YWRtaW46YWRtaW4=' })), null);
    assert.equal(await authn.authenticate(req({ authorization: 'Bearer ' })), null);
  });

  test('WebSocket subprotocol token (base64url.bearer.authorization.k8s.io.)', async () => {
    const proto = `v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${Buffer.from('student-token').toString('base64url')}`;
    assert.equal((await authn.authenticate(req({ 'sec-websocket-protocol': proto })))?.username, 'alice');
  });
});

describe('auth files in the data dir', () => {
  test('created 0600 at first start, the same token afterwards, a user added is authenticated', async () => {
    const dataDir = join(tmp, 'data');
    const first = ensureAuthFiles(dataDir);
    assert.equal(statSync(first.adminTokenPath).mode & 0o777, 0o600);
    assert.equal(statSync(first.tokenFilePath).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'auth')).mode & 0o777, 0o700);
    assert.match(first.adminToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(ensureAuthFiles(dataDir).adminToken, first.adminToken);

    const token = addTokenUser(first.tokenFilePath, { username: 'student1', groups: ['students'] });
    assert.match(readFileSync(first.tokenFilePath, 'utf8'), /^# Bramble bearer tokens/);
    const authn = createAuthenticator({ adminToken: first.adminToken, tokenFile: first.tokenFilePath });
    assert.deepEqual(await authn.authenticate(req({ authorization: `Bearer ${token}` })), { username: 'student1', groups: ['students', 'system:authenticated'] });
  });

  test('a credentials file readable by others is refused with the chmod to run', () => {
    const dataDir = join(tmp, 'loose');
    const files = ensureAuthFiles(dataDir);
    chmodSync(files.adminTokenPath, 0o644);
    assert.throws(() => ensureAuthFiles(dataDir), new RegExp(`readable by other users \\(mode 0644\\).*chmod 600 ${files.adminTokenPath}`));
  });
});

describe('authenticator: client certificates over real TLS', () => {
  let server: Server;
  let port = 0;
  let pem: (file: string) => Buffer = () => Buffer.alloc(0);

  before(async () => {
    pem = makePki(join(tmp, 'pki'), ['cluster-ca', 'other-ca'], [
      { name: 'server', subject: '/CN=bramble-api', ca: 'cluster-ca', server: true },
      { name: 'alice', subject: '/O=students/O=class-a/CN=alice', ca: 'cluster-ca' },
      { name: 'mallory', subject: '/O=system:masters/CN=mallory', ca: 'other-ca' },
    ]).pem;

    const authn = createAuthenticator({ adminToken: 'admin-secret' });
    server = createHttpsServer({ key: pem('server.key'), cert: pem('server.crt'), ca: pem('cluster-ca.crt'), requestCert: true, rejectUnauthorized: false }, (request, response) => {
      authn.authenticate(request).then(
        (user) => response.end(JSON.stringify(user)),
        (err: unknown) => response.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function call(opts: { cert?: string; headers?: Record<string, string> }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const r = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          ca: pem('cluster-ca.crt'),
          headers: opts.headers ?? {},
          agent: false,
          ...(opts.cert === undefined ? {} : { cert: pem(`${opts.cert}.crt`), key: pem(`${opts.cert}.key`) }),
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body)));
        },
      );
      r.on('error', reject);
      r.end();
    });
  }

  test('CN is the user, each O a group', async () => {
    assert.deepEqual(await call({ cert: 'alice' }), { username: 'alice', groups: ['students', 'class-a', 'system:authenticated'] });
  });

  test('a certificate from another CA is not a user (even claiming system:masters)', async () => {
    assert.equal(await call({ cert: 'mallory' }), null);
  });

  test('no certificate: a bearer token still works over the same listener', async () => {
    assert.equal(await call({}), null);
    assert.equal(((await call({ headers: { authorization: 'Bearer admin-secret' } })) as { username: string }).username, 'admin');
  });

  test('a plain HTTP socket never yields a certificate user', async () => {
    const authn = createAuthenticator({});
    const plain = createHttpServer((request, response) => {
      void authn.authenticate(request).then((user) => response.end(JSON.stringify(user)));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const r = httpRequest({ host: '127.0.0.1', port: (plain.address() as AddressInfo).port, agent: false }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        });
        r.on('error', reject);
        r.end();
      });
      assert.equal(body, 'null');
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});
