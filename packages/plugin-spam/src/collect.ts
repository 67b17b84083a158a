import type { MessageContext } from '@mef/core';
import type { MessageFeatures, PartInfo } from './features.js';

// One set of views per transaction, shared by every spam stage (rules, Bayes): the second
// stage reuses the first one's promise instead of asking the engine to decode parts again.
// Keyed by the transaction's state object, so it goes away with the transaction.
const perTransaction = new WeakMap<object, Promise<MessageFeatures>>();

function ask(ctx: MessageContext): Promise<MessageFeatures> {
  const parts: PartInfo[] = [];
  ctx.message.parts({}, (part) => {
    parts.push({ contentType: part.contentType, filename: part.filename, disposition: part.disposition });
    part.skip();
  });
  const headers = ctx.message.headers();
  const text = ctx.message.text();
  return Promise.all([headers, text]).then(([h, t]) => ({
    headers: h,
    subject: t.subject,
    text: t.text,
    html: t.html,
    parts,
  }));
}

/**
 * Asks the core for the views the spam stages read, synchronously (before the hook's first
 * await, as the core requires), and resolves with the features at the end of the message.
 * Parts are only looked at for their shape: their content is skipped, never buffered.
 */
export function collectFeatures(ctx: MessageContext): Promise<MessageFeatures> {
  const key = ctx.state as object;
  let p = perTransaction.get(key);
  if (!p) {
    p = ask(ctx);
    perTransaction.set(key, p);
  }
  return p;
}
