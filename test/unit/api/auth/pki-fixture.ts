// A throwaway PKI made with the real openssl: a cluster CA, a server certificate for 127.0.0.1 and
// client certificates, so authentication is tested over real TLS handshakes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  /** The PEM bytes of `<name>.crt` / `<name>.key`. */
  pem(file: string): Buffer;
  path(file: string): string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** CAs by name; leaves as { name, subject ("/O=g1/O=g2/CN=user"), ca, server? }. */
export function makePki(dir: string, cas: string[], leaves: { name: string; subject: string; ca: string; server?: boolean }[]): Pki {
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  for (const ca of cas) openssl('req', '-x509', ...EC, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=${ca}`);
  for (const leaf of leaves) {
    openssl('req', ...EC, '-keyout', `${leaf.name}.key`, '-out', `${leaf.name}.csr`, '-subj', leaf.subject);
    writeFileSync(join(dir, `${leaf.name}.ext`), leaf.server === true ? 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', `${leaf.name}.csr`, '-CA', `${leaf.ca}.crt`, '-CAkey', `${leaf.ca}.key`, '-CAcreateserial', '-out', `${leaf.name}.crt`, '-days', '1', '-extfile', `${leaf.name}.ext`);
  }
  return { dir, pem: (file) => readFileSync(join(dir, file)), path: (file) => join(dir, file) };
}
