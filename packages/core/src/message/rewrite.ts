import type { HeaderMutation } from '../verdict.js';

function foldValue(name: string, value: string, eol: string): string {
  // Keep continuation lines the stage gave; normalise their line ends to the message's.
  return `${name}: ${value.replace(/\r?\n(?=[ \t])/g, eol)}`;
}

/**
 * Applies header mutations, in order, to a raw header block (without the empty line that
 * ends it). Untouched fields keep their exact bytes. `add` appends at the end of the block,
 * `prepend` inserts at the top (where trace fields go).
 */
export function applyHeaderMutations(
  block: Buffer,
  mutations: readonly HeaderMutation[],
  /** Line end for an empty block (a message that had none); else the block's own. */
  emptyEol: '\r\n' | '\n' = '\n',
): Buffer {
  const text = block.toString('latin1');
  const eol = /\r\n/.test(text) ? '\r\n' : text.length ? '\n' : emptyEol;
  const rawLines = text.length ? text.split(/(?<=\n)/) : [];
  // Group physical lines into fields (a line starting with space or tab continues one).
  const fields: string[] = [];
  for (const line of rawLines) {
    if ((line[0] === ' ' || line[0] === '\t') && fields.length) fields[fields.length - 1] += line;
    else fields.push(line);
  }
  if (fields.length && !/\n$/.test(fields[fields.length - 1]!)) fields[fields.length - 1] += eol;
  const keyOf = (f: string): string => {
    const i = f.indexOf(':');
    return i > 0 ? f.slice(0, i).trim().toLowerCase() : '';
  };
  const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  for (const m of mutations) {
    switch (m.op) {
      case 'add':
        fields.push(latin1(foldValue(m.name, m.value, eol)) + eol);
        break;
      case 'prepend':
        fields.unshift(latin1(foldValue(m.name, m.value, eol)) + eol);
        break;
      case 'set':
      case 'remove': {
        const key = m.name.toLowerCase();
        const positions = fields.map((f, i) => (keyOf(f) === key ? i : -1)).filter((i) => i >= 0);
        const targets = m.index === undefined ? positions : positions.slice(m.index - 1, m.index);
        if (m.op === 'set') {
          const line = latin1(foldValue(m.name, m.value, eol)) + eol;
          if (!targets.length) {
            if (m.index === undefined) fields.push(line);
            break;
          }
          if (m.index === undefined) {
            // Replace every occurrence by one field at the first position.
            fields[targets[0]!] = line;
            for (const i of targets.slice(1).reverse()) fields.splice(i, 1);
          } else fields[targets[0]!] = line;
        } else {
          for (const i of [...targets].reverse()) fields.splice(i, 1);
        }
        break;
      }
      case 'subject': {
        const i = fields.findIndex((f) => keyOf(f) === 'subject');
        const prefix = latin1(m.prefix);
        if (i === -1) {
          fields.push(`Subject: ${prefix}${eol}`);
          break;
        }
        const f = fields[i]!;
        const colon = f.indexOf(':');
        const value = f.slice(colon + 1).replace(/^[ \t]*/, '');
        if (value.startsWith(prefix)) break;
        fields[i] = `${f.slice(0, colon)}: ${prefix} ${value}`;
        break;
      }
    }
  }
  return Buffer.from(fields.join(''), 'latin1');
}
