// Decodes a Kubernetes protobuf request body (`application/vnd.kubernetes.protobuf`) into the JSON
// object the rest of the server works with. The body is the 4-byte magic `k8s\0` followed by a
// runtime.Unknown { typeMeta, raw, contentEncoding, contentType } whose `raw` is the object's own
// message. The wire reading is protobufjs' Reader; the field numbers are our table in
// protobuf-schema.ts. Answers always go back as JSON, which kubectl accepts.
import protobuf from 'protobufjs/minimal.js';
import { MESSAGES, PROTOBUF_KINDS, PROTOBUF_REVIEW_KINDS, type FieldSpec, type FieldType, type ScalarType } from './protobuf-schema.ts';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const MAX_DEPTH = 64;
/**
 * Fields, list items and map entries in one body. Lower than JSON's bound (body-limits.ts): this
 * decoder is JavaScript (about 1 us a map entry where JSON.parse is native), and kubectl's
 * generators, the only senders of protobuf, write small objects.
 */
export const MAX_PROTOBUF_VALUES = 20_000;

/**
 * What is left of the current body's value budget: 3 MiB of two-byte empty strings would be 1.5
 * million list items (about 0.5 s of decoding). Decoding is synchronous, so one counter serves.
 */
let valuesLeft = MAX_PROTOBUF_VALUES;

function countValue(): void {
  if (--valuesLeft < 0) throw new ProtobufError(400, `the protobuf body has more than ${MAX_PROTOBUF_VALUES} values`);
}

/** `code` 400: the bytes are not valid protobuf; 415: valid, but not something we decode. */
export class ProtobufError extends Error {
  constructor(readonly code: 400 | 415, message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

type Reader = protobuf.Reader;
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

// Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
const WIRE_OF: Record<ScalarType, number> = { string: 2, bytes: 2, bool: 0, int32: 0, int64: 0 };

function toNumber(value: number | protobuf.Long): number {
  return typeof value === 'number' ? value : new protobuf.util.LongBits(value.low >>> 0, value.high >>> 0).toNumber();
}

function readScalar(r: Reader, type: ScalarType): Json {
  switch (type) {
    case 'string': return r.string();
    case 'bytes': return Buffer.from(r.bytes()).toString('base64');
    case 'bool': return r.bool();
    case 'int32': return r.int32();
    case 'int64': return toNumber(r.int64());
  }
}

function isZero(value: Json): boolean {
  return value === '' || value === 0 || value === false;
}

function subReader(r: Reader): Reader {
  return protobuf.Reader.create(r.bytes());
}

/** metav1.Time / Timestamp: seconds + nanos; an empty message is the zero time (JSON null). */
function readTime(r: Reader): string | null {
  const s = subReader(r);
  let seconds = 0;
  let nanos = 0;
  while (s.pos < s.len) {
    const tag = s.uint32();
    if (tag === (1 << 3)) seconds = toNumber(s.int64());
    else if (tag === (2 << 3)) nanos = s.int32();
    else s.skipType(tag & 7);
  }
  if (seconds === 0 && nanos === 0) return null;
  // Kubernetes serialises Time at second precision (RFC 3339).
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** intstr.IntOrString: { type: 0 int | 1 string, intVal, strVal }. */
function readIntOrString(r: Reader): number | string {
  const s = subReader(r);
  let kind = 0;
  let intVal = 0;
  let strVal = '';
  while (s.pos < s.len) {
    const tag = s.uint32();
    if (tag === (1 << 3)) kind = toNumber(s.int64());
    else if (tag === (2 << 3)) intVal = s.int32();
    else if (tag === ((3 << 3) | 2)) strVal = s.string();
    else s.skipType(tag & 7);
  }
  return kind === 1 ? strVal : intVal;
}

/** resource.Quantity: { string = 1 }. */
function readQuantity(r: Reader): string {
  const s = subReader(r);
  let value = '';
  while (s.pos < s.len) {
    const tag = s.uint32();
    if (tag === ((1 << 3) | 2)) value = s.string();
    else s.skipType(tag & 7);
  }
  return value;
}

function readMapEntry(r: Reader, valueType: ScalarType | 'Quantity', where: string): [string, Json] {
  const s = subReader(r);
  let key = '';
  let value: Json = valueType === 'Quantity' || valueType === 'string' || valueType === 'bytes' ? '' : 0;
  while (s.pos < s.len) {
    const tag = s.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) key = s.string();
    else if (field === 2 && valueType === 'Quantity' && (tag & 7) === 2) value = readQuantity(s);
    else if (field === 2 && valueType !== 'Quantity' && (tag & 7) === WIRE_OF[valueType]) value = readScalar(s, valueType);
    else throw new ProtobufError(400, `${where}: a map entry has an unexpected field ${field} (wire type ${tag & 7})`);
  }
  return [key, value];
}

function expectedWire(type: FieldType): number {
  if (typeof type === 'string') return type in WIRE_OF ? (WIRE_OF[type as ScalarType]) : 2;
  return 2;
}

function readMessage(r: Reader, name: string, path: string, depth: number): { [key: string]: Json } {
  if (depth > MAX_DEPTH) throw new ProtobufError(400, `the protobuf body nests deeper than ${MAX_DEPTH} messages`);
  const spec = MESSAGES[name];
  if (!spec) throw new ProtobufError(415, `${path}: this server has no protobuf schema for ${name}`);
  const out: { [key: string]: Json } = {};
  while (r.pos < r.len) {
    countValue();
    const tag = r.uint32();
    const number = tag >>> 3;
    const wire = tag & 7;
    const field: FieldSpec | undefined = spec[number];
    if (field === undefined) {
      throw new ProtobufError(415, `${path}: field number ${number} of ${name} is not understood by this server's protobuf decoder`);
    }
    const at = `${path}.${field.json}`;
    const type = field.type;
    // A repeated varint may arrive packed (one length-delimited run of varints).
    if (field.repeated && typeof type === 'string' && expectedWire(type) === 0 && wire === 2) {
      const s = subReader(r);
      const list = (out[field.json] ??= []) as Json[];
      while (s.pos < s.len) {
        countValue();
        list.push(readScalar(s, type as ScalarType));
      }
      continue;
    }
    if (wire !== expectedWire(type)) throw new ProtobufError(400, `${at}: wire type ${wire} where ${JSON.stringify(type)} was expected`);
    let value: Json;
    if (typeof type === 'object' && 'map' in type) {
      const [key, v] = readMapEntry(r, type.map, at);
      const map = (out[field.json] ??= {}) as { [key: string]: Json };
      map[key] = v;
      continue;
    }
    if (typeof type === 'object') value = readMessage(subReader(r), type.message, at, depth + 1);
    else if (type === 'skip') {
      // Status as a client sends it on create: the server resets it, so it is not read.
      r.skipType(wire);
      continue;
    } else if (type === 'Time') value = readTime(r);
    else if (type === 'IntOrString') value = readIntOrString(r);
    else if (type === 'Quantity') value = readQuantity(r);
    else value = readScalar(r, type);
    if (field.repeated) {
      ((out[field.json] ??= []) as Json[]).push(value);
      continue;
    }
    // Go's plain scalars are always on the wire; their zero value is JSON's omitted field.
    if (value === null || (isZero(value) && !field.pointer)) {
      delete out[field.json];
      continue;
    }
    out[field.json] = value;
  }
  return out;
}

function wrap<T>(what: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof ProtobufError) throw error;
    // protobufjs throws RangeError ("index out of range") on truncated input, Error on bad wire types.
    throw new ProtobufError(400, `the protobuf body is malformed (${what}): ${(error as Error).message}`);
  }
}

export interface DecodedProtobuf {
  apiVersion: string;
  kind: string;
  object: { [key: string]: Json };
}

/** Decodes `k8s\0` + runtime.Unknown into { apiVersion, kind, object } (object has both set). */
export function decodeProtobufObject(body: Buffer): DecodedProtobuf {
  valuesLeft = MAX_PROTOBUF_VALUES;
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufError(400, 'the protobuf body does not start with the Kubernetes magic bytes "k8s\\x00"');
  }
  const envelope = wrap('envelope', () => {
    const r = protobuf.Reader.create(body.subarray(MAGIC.length));
    let apiVersion = '';
    let kind = '';
    let raw: Uint8Array = new Uint8Array();
    let contentEncoding = '';
    while (r.pos < r.len) {
      const tag = r.uint32();
      const number = tag >>> 3;
      if (number === 1 && (tag & 7) === 2) {
        const tm = readMessage(subReader(r), 'TypeMeta', 'typeMeta', 1);
        apiVersion = typeof tm['apiVersion'] === 'string' ? tm['apiVersion'] : '';
        kind = typeof tm['kind'] === 'string' ? tm['kind'] : '';
      } else if (number === 2 && (tag & 7) === 2) raw = r.bytes();
      else if (number === 3 && (tag & 7) === 2) contentEncoding = r.string();
      else if (number === 4 && (tag & 7) === 2) r.string();
      else throw new ProtobufError(400, `the protobuf envelope (runtime.Unknown) has an unexpected field ${number}`);
    }
    return { apiVersion, kind, raw, contentEncoding };
  });
  if (envelope.contentEncoding !== '') throw new ProtobufError(415, `protobuf content encoding "${envelope.contentEncoding}" is not supported`);
  if (envelope.kind === '' || envelope.apiVersion === '') throw new ProtobufError(400, 'the protobuf envelope names no apiVersion and kind');
  const key = `${envelope.apiVersion}/${envelope.kind}`;
  if (!PROTOBUF_KINDS.has(key) && !PROTOBUF_REVIEW_KINDS.has(key)) {
    throw new ProtobufError(415, `this server decodes protobuf bodies only for ${[...PROTOBUF_KINDS].map((k) => k.split('/').pop()).join(', ')}; send the ${envelope.kind} as YAML or JSON instead (write it to a file and use kubectl create -f / apply -f)`);
  }
  const object = wrap(envelope.kind, () => readMessage(protobuf.Reader.create(envelope.raw), envelope.kind, envelope.kind, 1));
  return { apiVersion: envelope.apiVersion, kind: envelope.kind, object: { apiVersion: envelope.apiVersion, kind: envelope.kind, ...object } };
}
