/**
 * The baseline the core benchmarks measure the engine against: mailsplit's Splitter plus a
 * decoder for every leaf part, each decoded byte read and dropped.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Splitter } from '@zone-eu/mailsplit';

interface SplitNode {
  type: string;
  multipart?: string | false;
  getDecoder?: () => NodeJS.ReadWriteStream & { end(): void };
  node?: SplitNode;
  value?: Buffer;
}

/** Splits `source` and decodes every part, with backpressure from each decoder. */
export async function splitterDecode(source: NodeJS.ReadableStream): Promise<void> {
  let decoder: (NodeJS.ReadWriteStream & { end(): void }) | undefined;
  let current: SplitNode | undefined;
  const endDecoder = async () => {
    if (!decoder) return;
    const d = decoder;
    decoder = undefined;
    d.end();
    await once(d, 'end');
  };
  const drain = new Writable({
    objectMode: true,
    write(obj: SplitNode, _e, cb) {
      (async () => {
        if (obj.type === 'node') {
          await endDecoder();
          current = obj;
          if (!obj.multipart && obj.getDecoder) {
            decoder = obj.getDecoder();
            decoder.on('data', () => {});
          }
        } else if (obj.type === 'body' && decoder && obj.node === current) {
          if (!decoder.write(obj.value!)) await once(decoder, 'drain');
        }
      })().then(() => cb(), cb);
    },
    final(cb) {
      endDecoder().then(() => cb(), cb);
    },
  });
  await pipeline(source, new Splitter() as unknown as NodeJS.ReadWriteStream, drain);
}
