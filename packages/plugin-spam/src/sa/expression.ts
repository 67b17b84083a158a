/**
 * The small expression language of SpamAssassin's `meta` rules and `if` conditions:
 * numbers, names, `!`, `+ - * /`, comparisons, `&&`/`||` (also `and`/`or`/`not`) and
 * parentheses. Parsed once into a closure; no `eval`, so a rule file cannot run code.
 */

/** An expression that cannot be parsed; the message says where. */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** A compiled expression: evaluates with the value of each name from `value`. */
export interface Expression {
  readonly names: readonly string[];
  evaluate(value: (name: string) => number): number;
  /**
   * The same expression over an array of values: `slot(name)` gives each name's index in it
   * (-1: always 0). Bound once, it reads numbers by index instead of calling back per name.
   */
  bind(slot: (name: string) => number): (values: ArrayLike<number>) => number;
}

type Node<E> = (env: E) => number;

const TOKEN = /\s*(\d+(?:\.\d+)?|[A-Za-z_][\w:.]*(?:\([^()]*\))?|&&|\|\||[<>=!]=|[-+*/()<>!])/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new ExpressionError(`unexpected ${JSON.stringify(text.slice(pos, pos + 12))}`);
    const t = m[1] as string;
    out.push(t === 'and' ? '&&' : t === 'or' ? '||' : t === 'not' ? '!' : t);
    pos = TOKEN.lastIndex;
  }
  return out;
}

const BINARY: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '>', '<=', '>='],
  ['+', '-'],
  ['*', '/'],
];

function apply(op: string, a: number, b: number): number {
  switch (op) {
    case '||':
      return a || b;
    case '&&':
      return a && b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return b === 0 ? 0 : a / b;
  }
}

/** Parses tokens into a closure whose names read through `leaf`. */
function build<E>(
  tokens: readonly string[],
  leaf: (name: string) => Node<E>,
): { root: Node<E>; names: string[] } {
  const names = new Set<string>();
  let i = 0;
  const peek = () => tokens[i];

  function binary(level: number): Node<E> {
    if (level === BINARY.length) return unary();
    let left = binary(level + 1);
    const ops = BINARY[level] as readonly string[];
    while (ops.includes(peek() ?? '')) {
      const op = tokens[i++] as string;
      const l = left;
      const r = binary(level + 1);
      if (op === '&&') left = (v) => (l(v) ? r(v) : 0);
      else if (op === '||') left = (v) => l(v) || r(v);
      else left = (v) => apply(op, l(v), r(v));
    }
    return left;
  }

  function unary(): Node<E> {
    const t = peek();
    if (t === '!') {
      i++;
      const inner = unary();
      return (v) => (inner(v) ? 0 : 1);
    }
    if (t === '-') {
      i++;
      const inner = unary();
      return (v) => -inner(v);
    }
    return primary();
  }

  function primary(): Node<E> {
    const t = tokens[i++];
    if (t === undefined) throw new ExpressionError('expression ends early');
    if (t === '(') {
      const inner = binary(0);
      if (tokens[i++] !== ')') throw new ExpressionError('missing )');
      return inner;
    }
    if (/^\d/.test(t)) {
      const n = Number(t);
      return () => n;
    }
    if (/^[A-Za-z_]/.test(t)) {
      names.add(t);
      return leaf(t);
    }
    throw new ExpressionError(`unexpected ${t}`);
  }

  const root = binary(0);
  if (i !== tokens.length) throw new ExpressionError(`unexpected ${tokens[i]}`);
  return { root, names: [...names] };
}

/** Parses an expression; names are rule names (or `version`, `plugin(X)` in conditions). */
export function parseExpression(text: string): Expression {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new ExpressionError('empty expression');
  const { root, names } = build<(name: string) => number>(tokens, (t) => (v) => v(t));
  return {
    names,
    evaluate: (v) => root(v),
    bind(slot) {
      return build<ArrayLike<number>>(tokens, (t) => {
        const k = slot(t);
        return k < 0 ? () => 0 : (a) => a[k] as number;
      }).root;
    },
  };
}
