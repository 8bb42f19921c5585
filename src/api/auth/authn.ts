// Authentication: who sent this request? Client certificates signed by the cluster CA (the TLS
// layer has verified them: CN -> user name, O -> groups, as Kubernetes' x509 authenticator does),
// then bearer tokens (the admin token and the token file). `null` means no valid credentials and
// the server answers 401. The anonymous user exists only where the gate allows it (the health
// paths, see gate.ts), and only for a request that presents no credentials at all.

import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { formatTokenLine, generateToken, parseCsvLine, parseTokenFile, TokenFile, TokenTable } from './token-file.ts';
import type { TokenFileOptions } from './token-file.ts';
import { GROUP_MASTERS, GROUP_UNAUTHENTICATED, withAuthenticatedGroup } from './user.ts';
import type { UserInfo } from './user.ts';

export interface Authenticator {
  authenticate(req: IncomingMessage): Promise<UserInfo | null>;
}

export const ADMIN_USERNAME = 'admin';

export interface AuthenticatorOptions {
  /** The cluster admin's token: user `admin`, group `system:masters`. */
  adminToken?: string;
  /** A Kubernetes --token-auth-file CSV, re-read when it changes. */
  tokenFile?: string;
  tokenFileOptions?: TokenFileOptions;
  /** Accept verified client certificates (default true). */
  clientCertificates?: boolean;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
// Browsers cannot set headers on a WebSocket, so Kubernetes also takes the token from a
// subprotocol "base64url.bearer.authorization.k8s.io.<base64url(token)>".
const WS_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/** The bearer token a request carries, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = BEARER.exec(header);
    if (match?.[1] !== undefined) return match[1];
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    for (const p of protocols.split(',')) {
      const trimmed = p.trim();
      if (trimmed.startsWith(WS_PROTOCOL_PREFIX)) {
        const token = Buffer.from(trimmed.slice(WS_PROTOCOL_PREFIX.length), 'base64url').toString('utf8');
        if (token !== '') return token;
      }
    }
  }
  return undefined;
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The user of a verified client certificate, or undefined (no certificate, or not verified by the CA). */
export function certificateUser(req: IncomingMessage): UserInfo | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.subject === undefined) return undefined;
  // Node gives an array when the subject repeats a field (several O= are several groups).
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
  const cn = asList(subject['CN'])[0];
  if (cn === undefined || cn === '') return undefined;
  return { username: cn, groups: asList(subject['O']) };
}

/** Kubernetes' anonymous user: what a request without any credentials is, where anonymous requests are allowed. */
export const ANONYMOUS_USER: UserInfo = { username: 'system:anonymous', groups: [GROUP_UNAUTHENTICATED] };

/**
 * Whether the request carries a credential, valid or not: a bearer token or a client certificate.
 * A wrong one is a 401 even where anonymous requests are allowed, as in Kubernetes; an
 * Authorization header of another scheme (Basic) is no credential to it either.
 */
export function presentsCredentials(req: IncomingMessage): boolean {
  if (bearerToken(req) !== undefined) return true;
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return false;
  const cert = socket.getPeerCertificate();
  return cert !== null && Object.keys(cert).length > 0;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const admin = options.adminToken === undefined ? undefined : new TokenTable([{ token: options.adminToken, user: { username: ADMIN_USERNAME, groups: [GROUP_MASTERS] } }]);
  const file = options.tokenFile === undefined ? undefined : new TokenFile(options.tokenFile, options.tokenFileOptions);
  const certificates = options.clientCertificates ?? true;
  return {
    authenticate(req) {
      if (certificates) {
        const user = certificateUser(req);
        if (user !== undefined) return Promise.resolve(withAuthenticatedGroup(user));
      }
      const token = bearerToken(req);
      if (token === undefined) return Promise.resolve(null);
      const user = admin?.lookup(token) ?? file?.lookup(token);
      return Promise.resolve(user === undefined ? null : withAuthenticatedGroup(user));
    },
  };
}

export interface AuthFiles {
  /** `<dataDir>/auth/admin-token`, 0600. */
  adminTokenPath: string;
  adminToken: string;
  /** `<dataDir>/auth/tokens.csv`, 0600, for further users (`bramble token create`). */
  tokenFilePath: string;
}

const TOKEN_FILE_HEADER = `# Bramble bearer tokens, Kubernetes --token-auth-file format, one user per line:
# token,user,uid,"group1,group2"
# Grant rights with RBAC (a RoleBinding in the user's namespace). Changes apply within a second.
`;

function assertPrivate(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); it holds credentials: run chmod 600 ${path}`);
  }
}

/**
 * The node's credential files, created at first start (0600, in a 0700 directory) and read
 * afterwards. Refuses files other users can read rather than serve with leaked credentials.
 */
export function ensureAuthFiles(dataDir: string): AuthFiles {
  const dir = join(dataDir, 'auth');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const adminTokenPath = join(dir, 'admin-token');
  const tokenFilePath = join(dir, 'tokens.csv');
  if (!existsSync(adminTokenPath)) writeFileSync(adminTokenPath, `${generateToken()}\n`, { mode: 0o600, flag: 'wx' });
  if (!existsSync(tokenFilePath)) writeFileSync(tokenFilePath, TOKEN_FILE_HEADER, { mode: 0o600, flag: 'wx' });
  assertPrivate(adminTokenPath);
  assertPrivate(tokenFilePath);
  const adminToken = readFileSync(adminTokenPath, 'utf8').trim();
  if (adminToken === '') throw new Error(`${adminTokenPath} is empty; delete it and restart to create a new admin token`);
  return { adminTokenPath, adminToken, tokenFilePath };
}

/** Adds a user to the token file and returns the new token (the file is re-read by running servers). */
export function addTokenUser(tokenFilePath: string, user: UserInfo): string {
  const token = generateToken();
  const existing = existsSync(tokenFilePath) ? readFileSync(tokenFilePath, 'utf8') : TOKEN_FILE_HEADER;
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  writeFileSync(tokenFilePath, `${existing}${sep}${formatTokenLine({ token, user })}\n`, { mode: 0o600 });
  chmodSync(tokenFilePath, 0o600);
  return token;
}

/** The users of the token file, without their tokens (for `bramble token list`). */
export function listTokenUsers(tokenFilePath: string): UserInfo[] {
  return parseTokenFile(readFileSync(tokenFilePath, 'utf8'), tokenFilePath).map((entry) => entry.user);
}

/** Removes every line of that user (all their tokens); returns how many. Comments are kept. */
export function removeTokenUser(tokenFilePath: string, username: string): number {
  const lines = readFileSync(tokenFilePath, 'utf8').split('\n');
  let removed = 0;
  const kept = lines.filter((line) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return true;
    const [, user] = parseCsvLine(line);
    if (user !== username) return true;
    removed++;
    return false;
  });
  if (removed > 0) writeFileSync(tokenFilePath, kept.join('\n'), { mode: 0o600 });
  return removed;
}
