// Kubernetes' syntax rules for names, label keys and values, annotation keys and config keys. Each
// check returns the list of problems as Kubernetes words them (empty = valid), so the caller can wrap
// them into field errors at the right path.

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;
const CONFIG_KEY = '[-._a-zA-Z0-9]+';
const C_IDENTIFIER = '[A-Za-z_][A-Za-z0-9_]*';

const full = (re: string): RegExp => new RegExp(`^(?:${re})$`);
const dns1123LabelRe = full(DNS1123_LABEL);
const dns1123SubdomainRe = full(DNS1123_SUBDOMAIN);
const qualifiedNameRe = full(QUALIFIED_NAME);
const labelValueRe = full(LABEL_VALUE);
const configKeyRe = full(CONFIG_KEY);
const envVarNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const ianaSvcNameRe = /^[-a-z0-9]+$/;
const cIdentifierRe = full(C_IDENTIFIER);

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE_MAX = 63;

function examples(...xs: string[]): string {
  return xs.map((x) => `'${x}'`).join(',  or ');
}

function regexMessage(what: string, re: string, ...ex: string[]): string {
  return `${what} (e.g. ${examples(...ex)}, regex used for validation is '${re}')`;
}

const maxLen = (n: number): string => `must be no more than ${n} characters`;

export function isDns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_LABEL_MAX) errs.push(maxLen(DNS1123_LABEL_MAX));
  if (!dns1123LabelRe.test(value)) {
    errs.push(regexMessage("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, 'my-name', '123-abc'));
  }
  return errs;
}

const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelRe = full(DNS1035_LABEL);

/** Service names: a DNS label that starts with a letter (it becomes a DNS name and env var prefix). */
export function isDns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_LABEL_MAX) errs.push(maxLen(DNS1123_LABEL_MAX));
  if (!dns1035LabelRe.test(value)) {
    errs.push(regexMessage("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL, 'my-name', 'abc-123'));
  }
  return errs;
}

export function isDns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLen(DNS1123_SUBDOMAIN_MAX));
  if (!dns1123SubdomainRe.test(value)) {
    errs.push(regexMessage("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, 'example.com'));
  }
  return errs;
}

/** Label keys, annotation keys, finalizers: `[prefix/]name`, prefix a DNS subdomain. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [regexMessage("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME, 'MyName', 'my.name', '123-abc') +
      " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  if (name.length > 0 && !qualifiedNameRe.test(name)) {
    errs.push(regexMessage("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME, 'MyName', 'my.name', '123-abc'));
  }
  return errs;
}

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX) errs.push(maxLen(LABEL_VALUE_MAX));
  if (!labelValueRe.test(value)) {
    errs.push(regexMessage("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** ConfigMap and Secret data keys (they become file names in volumes). */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLen(DNS1123_SUBDOMAIN_MAX));
  if (!configKeyRe.test(value)) {
    errs.push(regexMessage("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY, 'key.name', 'KEY_NAME', 'key-name'));
  }
  if (value === '.') errs.push("must not be '.'");
  else if (value === '..') errs.push("must not be '..'");
  else if (value.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRe.test(value)) {
    errs.push("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')");
  }
  return errs;
}

export function isCIdentifier(value: string): string[] {
  return cIdentifierRe.test(value) ? [] : [regexMessage("a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'", C_IDENTIFIER, 'my_name', 'MY_NAME', 'MyName')];
}

/** Port names: IANA service names (RFC 6335), max 15 characters, at least one letter. */
export function isValidPortName(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 15) errs.push(maxLen(15));
  if (!ianaSvcNameRe.test(value)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (value.includes('--')) errs.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(value)) errs.push("must contain at least one letter (a-z)");
  if (value.startsWith('-') || value.endsWith('-')) errs.push("must not begin or end with a hyphen");
  return errs;
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

export function isValidIp(value: string): string[] {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  if (v4.test(value)) return [];
  // IPv6: let the URL parser judge the syntax instead of a hand-written grammar.
  if (value.includes(':')) {
    try {
      new URL(`http://[${value}]/`);
      return [];
    } catch {
      // fall through
    }
  }
  return ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

/** Names of objects per kind: most kinds take a DNS subdomain, a few a DNS label. */
export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'path-segment';

export function validateObjectName(name: string, rule: NameRule): string[] {
  switch (rule) {
    case 'label':
      return isDns1123Label(name);
    case 'dns1035':
      return isDns1035Label(name);
    case 'subdomain':
      return isDns1123Subdomain(name);
    case 'path-segment': {
      // RBAC objects may be named with ':' and upper case ("system:basic-user"); only path breakers are refused.
      if (name === '.' || name === '..') return [`may not be '${name}'`];
      for (const bad of ['/', '%']) if (name.includes(bad)) return [`may not contain '${bad}'`];
      return [];
    }
  }
}

// ---- IPv4 numbers and CIDRs (the pod and service ranges) ----

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** A dotted quad as a 32-bit unsigned number; undefined for anything else (no leading zeros). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** An IPv4 range: the pods' cluster CIDR, the Services' CIDR. */
export interface Ipv4Cidr {
  /** The network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
  /** `a.b.c.d/n`, normalised. */
  text: string;
}

/** `a.b.c.d/n` (surrounding blanks ignored) as numbers; undefined when it is not one. */
export function parseIPv4Cidr(text: string): { base: number; prefix: number } | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  const base = match ? parseIPv4(match[1]!) : undefined;
  const prefix = match ? Number(match[2]) : NaN;
  return base === undefined || prefix > 32 ? undefined : { base, prefix };
}

/** The network address of `address`/`prefix`. */
export function ipv4Network(address: number, prefix: number): number {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (address & mask) >>> 0;
}
