import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensurePki, servingHosts } from '../../../src/api/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'bramble-pki-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('ensurePki creates a CA, a serving cert naming the hosts, and an admin client cert; keys are 0600', async () => {
  const pki = await ensurePki(dir, servingHosts('10.1.2.3'));
  const ca = new X509Certificate(pki.caCertPem);
  const server = new X509Certificate(pki.serverCertPem);
  const admin = new X509Certificate(pki.adminCertPem);
  assert.ok(ca.ca);
  assert.ok(server.verify(ca.publicKey));
  assert.ok(admin.verify(ca.publicKey));
  assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(server.subjectAltName ?? '', /DNS:localhost/);
  assert.match(server.subjectAltName ?? '', /IP Address:10\.1\.2\.3/);
  assert.match(admin.subject, /CN=admin/);
  assert.match(admin.subject, /O=system:masters/);
  for (const key of ['ca.key', 'server.key', 'admin.key']) assert.equal(statSync(join(pki.dir, key)).mode & 0o777, 0o600, key);
});

test('ensurePki reuses the CA and the admin cert; a new API host reissues only the serving cert', async () => {
  const first = await ensurePki(dir, servingHosts('10.1.2.3'));
  const same = await ensurePki(dir, servingHosts('10.1.2.3'));
  assert.equal(same.serverCertPem, first.serverCertPem);
  const moved = await ensurePki(dir, servingHosts('10.9.9.9'));
  assert.equal(moved.caCertPem, first.caCertPem);
  assert.equal(moved.adminCertPem, first.adminCertPem);
  assert.notEqual(moved.serverCertPem, first.serverCertPem);
  assert.match(new X509Certificate(moved.serverCertPem).subjectAltName ?? '', /IP Address:10\.9\.9\.9/);
});

test('servingHosts names the board\'s mDNS name <hostname>.local (what a classroom kubeconfig points at), not for a dotted hostname', () => {
  assert.deepEqual(servingHosts('10.1.2.3', 'pi-1', 'pi-1'), ['127.0.0.1', 'localhost', '::1', 'pi-1', 'pi-1.local', '10.1.2.3']);
  assert.deepEqual(servingHosts('10.1.2.3', 'pi-1', 'pi-1.lab.example'), ['127.0.0.1', 'localhost', '::1', 'pi-1.lab.example', '10.1.2.3', 'pi-1']);
});
