import type { Transform } from 'node:stream';
import type { PartSelector } from '../plugin.js';

/** The fields of a mailsplit node the pass reads. */
export interface MimeNode {
  type: 'node';
  parentNode: MimeNode | false;
  multipart: string | false;
  encoding: string | false;
  headers: { build(): Buffer } | false;
  contentType: string | false;
  charset: string | false;
  disposition: string | false;
  filename: string | false;
  partNr: (number | string)[] | false;
  rfc822: boolean;
  /** true when the splitter opened this message/rfc822 node as a nested message; false when it is a leaf. */
  messageNode?: boolean;
  config: { ignoreEmbedded?: boolean };
  getDecoder(): Transform;
}

/** What the splitter emits: a node as it opens, then its raw (`data`) or body (`body`) bytes. */
export type SplitterChunk = MimeNode | { type: 'data' | 'body'; node: MimeNode; value: Buffer };

/** The fields of a node a selector looks at. */
export type SelectableNode = Pick<MimeNode, 'contentType' | 'filename' | 'disposition'>;

function matchType(rule: string | RegExp, type: string): boolean {
  if (rule instanceof RegExp) return rule.test(type);
  const r = rule.toLowerCase();
  if (r === '*' || r === '*/*') return true;
  if (r.endsWith('/*')) return type.startsWith(r.slice(0, -1));
  return type === r;
}

function isAttachment(node: SelectableNode): boolean {
  return node.disposition === 'attachment' || Boolean(node.filename);
}

/** True when a stage's selector takes this node. */
export function selects(sel: PartSelector, node: SelectableNode): boolean {
  const type = (node.contentType || 'text/plain').toLowerCase();
  if (sel.contentType !== undefined) {
    const rules = Array.isArray(sel.contentType) ? sel.contentType : [sel.contentType];
    if (!rules.some((r) => matchType(r as string | RegExp, type))) return false;
  }
  if (sel.filename !== undefined && !(node.filename && sel.filename.test(node.filename))) return false;
  if (sel.attachment !== undefined && isAttachment(node) !== sel.attachment) return false;
  return true;
}

/** Nesting depth of a node, 0 for the root. */
export function depthOf(node: MimeNode): number {
  let d = 0;
  let n: MimeNode | false = node.parentNode;
  while (n) {
    d++;
    n = n.parentNode;
  }
  return d;
}
