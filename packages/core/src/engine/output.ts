import { Readable } from 'node:stream';
import type { MessagePass } from '../message/pipeline.js';
import { applyHeaderMutations } from '../message/rewrite.js';
import type { MessageStore } from '../message/store.js';
import type { HeaderMutation } from '../verdict.js';

/**
 * The kept message with the header changes applied to its root header block and every other
 * byte as received. With no changes it is the input, byte for byte.
 */
export function rewrittenMessage(
  pass: MessagePass,
  store: MessageStore,
  mutations: readonly HeaderMutation[],
): Readable {
  const headerEnd = pass.headerEnd;
  const head = pass.headerBytes();
  if (!mutations.length || headerEnd < 0 || !head) return store.read(0);
  const { headerless, eol } = pass;
  let rewritten = applyHeaderMutations(head, mutations, eol);
  // Fields added to a message that had no header block need the empty line before its body.
  if (headerless && rewritten.length) rewritten = Buffer.concat([rewritten, Buffer.from(eol)]);
  // In memory: one stream over the new header block and the kept chunks.
  const held = store.memoryChunks(headerEnd);
  if (held) return Readable.from([rewritten, ...held], { objectMode: false });
  const rest = store.read(headerEnd);
  return Readable.from(
    (async function* () {
      yield rewritten;
      for await (const c of rest) yield c as Buffer;
    })(),
    { objectMode: false },
  );
}
