// The syntax check Go's encoding/json runs before it decodes (checkValid, scanner.go), with its
// messages: a client that sends bytes Kubernetes' Go server would refuse reads the same words here
// ("invalid character 'x' after object key", "unexpected end of JSON input"). The state machine
// follows Go's scanner one state per function; values are not built (JSON.parse does that after).

type Step = (c: number) => Step | string;

/** Go's maxNestingDepth: one more open object or array is a syntax error. */
const MAX_DEPTH = 10_000;
type Frame = 'key' | 'value' | 'array';

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
const ch = (s: string) => s.charCodeAt(0);

/** Go's quoteChar(byte): the byte as a Latin-1 character in single quotes, escaped as strconv.Quote would. */
export function goQuoteByte(b: number): string {
  const named: Record<number, string> = { 0x27: "\\'", 0x22: '"', 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x5c: '\\\\' };
  if (named[b] !== undefined) return `'${named[b]}'`;
  if (b < 0x20 || b === 0x7f) return `'\\x${b.toString(16).padStart(2, '0')}'`;
  // Latin-1 that Go's unicode.IsPrint rejects: the C1 controls, no-break space and soft hyphen.
  if ((b >= 0x80 && b <= 0xa0) || b === 0xad) return `'\\u${b.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(b)}'`;
}

/** Go's message for the first syntax error in `bytes`, or undefined when Go's checkValid accepts them. */
export function goJsonSyntaxError(bytes: Uint8Array): string | undefined {
  const stack: Frame[] = [];
  let endTop = false;
  const fail = (c: number, context: string) => `invalid character ${goQuoteByte(c)} ${context}`;

  const endTopState: Step = (c) => (isSpace(c) ? endTopState : fail(c, 'after top-level value'));
  const pop = (): Step => {
    stack.pop();
    if (stack.length === 0) {
      endTop = true;
      return endTopState;
    }
    return endValue;
  };
  const endValue: Step = (c) => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      endTop = true;
      return endTopState(c);
    }
    if (isSpace(c)) return endValue;
    if (top === 'key') {
      if (c !== ch(':')) return fail(c, 'after object key');
      stack[stack.length - 1] = 'value';
      return beginValue;
    }
    if (top === 'value') {
      if (c === ch(',')) {
        stack[stack.length - 1] = 'key';
        return beginString;
      }
      return c === ch('}') ? pop() : fail(c, 'after object key:value pair');
    }
    if (c === ch(',')) return beginValue;
    return c === ch(']') ? pop() : fail(c, 'after array element');
  };
  const literal = (rest: string, name: string, at = 0): Step => (c) => {
    if (c !== rest.charCodeAt(at)) return fail(c, `in literal ${name} (expecting '${rest[at] ?? ''}')`);
    return at + 1 === rest.length ? endValue : literal(rest, name, at + 1);
  };
  const inString: Step = (c) => (c === ch('"') ? endValue : c === ch('\\') ? inEscape : c < 0x20 ? fail(c, 'in string literal') : inString);
  const hexEscape = (left: number): Step => (c) => (!isHex(c) ? fail(c, 'in \\u hexadecimal character escape') : left === 1 ? inString : hexEscape(left - 1));
  const inEscape: Step = (c) => ('bfnrt\\/"'.includes(String.fromCharCode(c)) ? inString : c === ch('u') ? hexEscape(4) : fail(c, 'in string escape code'));
  const exponentDigits: Step = (c) => (isDigit(c) ? exponentDigits : endValue(c));
  const exponentSign: Step = (c) => (isDigit(c) ? exponentDigits : fail(c, 'in exponent of numeric literal'));
  const exponent: Step = (c) => (c === ch('+') || c === ch('-') ? exponentSign : exponentSign(c));
  const fractionDigits: Step = (c) => (isDigit(c) ? fractionDigits : c === ch('e') || c === ch('E') ? exponent : endValue(c));
  const dot: Step = (c) => (isDigit(c) ? fractionDigits : fail(c, 'after decimal point in numeric literal'));
  const zero: Step = (c) => (c === ch('.') ? dot : c === ch('e') || c === ch('E') ? exponent : endValue(c));
  const digits: Step = (c) => (isDigit(c) ? digits : zero(c));
  const negative: Step = (c) => (c === ch('0') ? zero : c >= ch('1') && c <= ch('9') ? digits : fail(c, 'in numeric literal'));
  const beginString: Step = (c) => (isSpace(c) ? beginString : c === ch('"') ? inString : fail(c, 'looking for beginning of object key string'));
  const beginStringOrEmpty: Step = (c) => (isSpace(c) ? beginStringOrEmpty : c === ch('}') ? ((stack[stack.length - 1] = 'value'), endValue(c)) : beginString(c));
  const beginValueOrEmpty: Step = (c) => (isSpace(c) ? beginValueOrEmpty : c === ch(']') ? endValue(c) : beginValue(c));
  const beginValue: Step = (c) => {
    if (isSpace(c)) return beginValue;
    switch (String.fromCharCode(c)) {
      case '{':
        stack.push('key');
        return stack.length > MAX_DEPTH ? fail(c, 'exceeded max depth') : beginStringOrEmpty;
      case '[':
        stack.push('array');
        return stack.length > MAX_DEPTH ? fail(c, 'exceeded max depth') : beginValueOrEmpty;
      case '"':
        return inString;
      case '-':
        return negative;
      case '0':
        return zero;
      case 't':
        return literal('rue', 'true');
      case 'f':
        return literal('alse', 'false');
      case 'n':
        return literal('ull', 'null');
      default:
        return isDigit(c) ? digits : fail(c, 'looking for beginning of value');
    }
  };

  let step: Step = beginValue;
  for (const c of bytes) {
    const next = step(c);
    if (typeof next === 'string') return next;
    step = next;
  }
  // At the end Go feeds one space, which completes a number or literal at the top level.
  if (endTop) return undefined;
  const last = step(0x20);
  if (typeof last === 'string') return last;
  return endTop ? undefined : 'unexpected end of JSON input';
}
