// Boards without a real-time clock: a certificate made on a laptop today must verify on a board
// whose clock still says the image's build date. Checked with OpenSSL's own verifier at a time in
// the past (`openssl verify -attime`), the same check a TLS handshake makes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CERTIFICATE_NOT_BEFORE, createCa, issueCertificate, loadCa, validity } from '../../../src/identity/certs.ts';

const dir = mkdtempSync(join(tmpdir(), 'bramble-certs-clock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function verifyAt(caPem: string, certPem: string, at: Date): string {
  writeFileSync(join(dir, 'ca.crt'), caPem);
  writeFileSync(join(dir, 'leaf.crt'), certPem);
  try {
    return execFileSync('openssl', ['verify', '-attime', String(Math.floor(at.getTime() / 1000)), '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.crt')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    return `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`.trim();
  }
}

describe('certificates on a board whose clock is behind', () => {
  test('the CA and a node certificate made now verify at a clock two years behind', async () => {
    const ca = await createCa();
    const node = await issueCertificate(await loadCa(ca.certPem, ca.keyPem), { subject: 'O=system:nodes, CN=system:node:pi-1', usages: ['server', 'client'], hosts: ['pi-1'] });
    const twoYearsAgo = new Date(Date.now() - 2 * 365 * 86_400_000);
    assert.equal(verifyAt(ca.certPem, node.cert, twoYearsAgo), `${join(dir, 'leaf.crt')}: OK`);
    assert.equal(new Date(new X509Certificate(ca.certPem).validFrom).getTime(), CERTIFICATE_NOT_BEFORE.getTime());
    assert.equal(new Date(new X509Certificate(node.cert).validFrom).getTime(), CERTIFICATE_NOT_BEFORE.getTime());
  });

  test('a clock before 2020 is refused by OpenSSL: the floor is a real limit, not a formality', async () => {
    const ca = await createCa();
    const node = await issueCertificate(await loadCa(ca.certPem, ca.keyPem), { subject: 'O=system:nodes, CN=system:node:pi-1', usages: ['client'] });
    assert.match(verifyAt(ca.certPem, node.cert, new Date('2019-06-01T00:00:00Z')), /certificate is not yet valid/);
  });

  test('notAfter is ten years after now, or after the floor when the clock is even before it', () => {
    const now = Date.parse('2026-12-08T00:00:00Z');
    assert.deepEqual(validity(now), { notBefore: CERTIFICATE_NOT_BEFORE, notAfter: new Date(now + 3650 * 86_400_000) });
    // A board that issues its own certificate with its clock at 1970 still gets one that lasts.
    assert.deepEqual(validity(0).notAfter, new Date(CERTIFICATE_NOT_BEFORE.getTime() + 3650 * 86_400_000));
  });
});
