// Bounds on the shape of a JSON or YAML request body, enforced before or while it is parsed, so a
// hostile body is refused after a bounded amount of work instead of after the parser has spent
// seconds on it (a 2.8 MB `[[[[…]]]]` took the `yaml` library 10-15 s before it overflowed the
// stack; the same depth took JSON.parse about 1 s).
//
// JSON: one linear scan of the text counts nesting and values, then the native JSON.parse runs.
// YAML: the `yaml` library's own lexer and CST parser are driven token by token; the parser's
// stack is the nesting, so the refusal comes at the first token past a limit. The CST is then
// composed with `uniqueKeys: false` (the library's duplicate-key check is quadratic: 20 000 keys
// took 6.7 s) and duplicate keys are found here with a Set instead.
import { Composer, CST, isMap, isNode, isScalar, isSeq, LineCounter, Lexer, Parser, type YAMLError } from 'yaml';

export interface BodyLimits {
  /** Collections (objects, arrays, maps, sequences) nested in one another. */
  maxDepth: number;
  /** Values: JSON strings, numbers, literals and containers; YAML scalars, aliases and flow collections (keys included). */
  maxValues: number;
  /** YAML lexical tokens, comments and blank lines included: what bounds the parser's work. */
  maxYamlTokens: number;
  /** YAML aliases, weighted by what they expand to (the `yaml` library's maxAliasCount). */
  maxYamlAliases: number;
}

export const BODY_LIMITS: BodyLimits = { maxDepth: 100, maxValues: 100_000, maxYamlTokens: 1_000_000, maxYamlAliases: 100 };

/** A body over one of the limits: the message is the Status message (400 BadRequest). */
export class BodyLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyLimitError';
  }
}

/** The body is not valid JSON or YAML; the message says where. */
export class BodySyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodySyntaxError';
  }
}

const tooDeep = (limits: BodyLimits) => new BodyLimitError(`the request body nests deeper than ${limits.maxDepth} levels`);
const tooManyValues = (limits: BodyLimits) => new BodyLimitError(`the request body has more than ${limits.maxValues} values`);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The index of the quote that closes the string opened at `open` (text.length if none). */
function endOfString(text: string, open: number): number {
  let i = text.indexOf('"', open + 1);
  while (i !== -1) {
    let slashes = 0;
    for (let j = i - 1; text.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return i;
    i = text.indexOf('"', i + 1);
  }
  return text.length;
}

/**
 * Refuses JSON text that nests deeper than maxDepth or holds more than maxValues values, in one
 * pass over the text. Exact for valid JSON; invalid JSON is left for JSON.parse to refuse.
 */
export function checkJsonShape(text: string, limits: BodyLimits = BODY_LIMITS): void {
  let depth = 0;
  let values = 0;
  // A value starts at the first non-space character after a structural one (or at the start).
  let expectValue = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isJsonSpace(c)) continue;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) throw tooDeep(limits);
      if (++values > limits.maxValues) throw tooManyValues(limits);
      expectValue = true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      expectValue = false;
    } else if (c === COMMA || c === COLON) {
      expectValue = true;
    } else {
      if (expectValue && ++values > limits.maxValues) throw tooManyValues(limits);
      expectValue = false;
      if (c === QUOTE) i = endOfString(text, i);
    }
  }
}

/** JSON.parse behind checkJsonShape. */
export function parseJsonBounded(text: string, limits: BodyLimits = BODY_LIMITS): unknown {
  checkJsonShape(text, limits);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BodySyntaxError((error as Error).message);
  }
}

const COLLECTION_TOKENS = new Set(['block-map', 'block-seq', 'flow-collection']);
const VALUE_LEXEMES = new Set(['scalar', 'single-quoted-scalar', 'double-quoted-scalar', 'alias', 'flow-map-start', 'flow-seq-start']);

function collectionsOn(stack: readonly CST.Token[]): number {
  let n = 0;
  for (const token of stack) if (COLLECTION_TOKENS.has(token.type)) n++;
  return n;
}

/**
 * The CST tokens of `source`, from the library's Lexer and Parser driven one lexeme at a time,
 * refusing the body at the first lexeme past a limit. A plain or block scalar is a marker lexeme
 * followed by its text, which is not classified again.
 */
function* boundedTokens(source: string, limits: BodyLimits, lineCounter: LineCounter): Generator<CST.Token> {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  let tokens = 0;
  let values = 0;
  let scalarText = false;
  for (const lexeme of new Lexer().lex(source)) {
    if (++tokens > limits.maxYamlTokens) throw new BodyLimitError(`the request body has more than ${limits.maxYamlTokens} YAML tokens`);
    if (scalarText) scalarText = false;
    else if (lexeme === CST.SCALAR) scalarText = true;
    if ((scalarText || VALUE_LEXEMES.has(CST.tokenType(lexeme) ?? '')) && ++values > limits.maxValues) throw tooManyValues(limits);
    yield* parser.next(lexeme);
    // The stack holds the document and open scalars too: count collections only when it could matter.
    if (parser.stack.length > limits.maxDepth && collectionsOn(parser.stack) > limits.maxDepth) throw tooDeep(limits);
  }
  yield* parser.end();
}

/**
 * Duplicate keys, which `uniqueKeys: false` stopped the library from finding (its check compares
 * each key with every earlier one). Aliases are not followed: this walk is linear in the text.
 */
function checkUniqueKeys(node: unknown, lines: LineCounter): void {
  if (isSeq(node)) {
    for (const item of node.items) checkUniqueKeys(item, lines);
  } else if (isMap(node)) {
    const keys = new Set<unknown>();
    for (const pair of node.items) {
      const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
      if (keys.has(key)) throw new BodySyntaxError(`Map keys must be unique${positionOf(pair.key, lines)}`);
      keys.add(key);
      checkUniqueKeys(pair.key, lines);
      checkUniqueKeys(pair.value, lines);
    }
  }
}

function positionOf(node: unknown, lines: LineCounter): string {
  const offset = isNode(node) ? node.range?.[0] : undefined;
  if (offset === undefined) return '';
  const { line, col } = lines.linePos(offset);
  return ` at line ${line}, column ${col}`;
}

const IN_PROGRESS = -1;

/**
 * The height of a decoded value, refusing it past maxDepth: aliases can nest a value deeper than
 * the text does. Each shared object is measured once (`heights`), so an alias used many times
 * costs nothing more, and an object met again while it is being measured is a cycle (too deep).
 */
function checkDepth(value: unknown, depth: number, limits: BodyLimits, heights: Map<object, number>): number {
  if (value === null || typeof value !== 'object') return 0;
  const known = heights.get(value);
  if (known === IN_PROGRESS || (known !== undefined && depth + known > limits.maxDepth)) throw tooDeep(limits);
  if (known !== undefined) return known;
  if (depth + 1 > limits.maxDepth) throw tooDeep(limits);
  heights.set(value, IN_PROGRESS);
  let height = 0;
  for (const child of Object.values(value)) height = Math.max(height, checkDepth(child, depth + 1, limits, heights));
  heights.set(value, height + 1);
  return height + 1;
}

function syntaxError(error: YAMLError, lines: LineCounter): BodySyntaxError {
  const { line, col } = lines.linePos(error.pos[0]);
  return new BodySyntaxError(`${error.message} at line ${line}, column ${col}`);
}

/**
 * YAML.parse of one document, refused at the first token past a limit. What the `yaml` library
 * reports as an error is a BodySyntaxError; a limit is a BodyLimitError.
 */
export function parseYamlBounded(source: string, limits: BodyLimits = BODY_LIMITS): unknown {
  const lines = new LineCounter();
  const options = { maxAliasCount: limits.maxYamlAliases, uniqueKeys: false } as const;
  const [doc, second] = new Composer(options).compose(boundedTokens(source, limits, lines), true, source.length);
  if (doc === undefined) return null;
  if (second !== undefined) throw new BodySyntaxError(`the request body holds more than one YAML document (the second starts at line ${lines.linePos(second.range[0]).line}); send one object per request`);
  const [error] = doc.errors;
  if (error !== undefined) throw syntaxError(error, lines);
  checkUniqueKeys(doc.contents, lines);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxYamlAliases });
  } catch (error) {
    if (error instanceof ReferenceError) throw new BodyLimitError(`the request body's YAML aliases expand past the limit of ${limits.maxYamlAliases}`);
    throw new BodySyntaxError((error as Error).message);
  }
  checkDepth(value, 0, limits, new Map());
  return value;
}
