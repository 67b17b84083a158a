import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SpamError } from '../src/errors.js';
import { capUpload, readCapped } from '../src/plugins/capped.js';

describe('size caps', () => {
  it('hold a message up to the cap, and only its size past it', async () => {
    const small = await readCapped(Readable.from([Buffer.from('abc'), Buffer.from('def')]), 6);
    expect(small.bytes?.toString()).toBe('abcdef');
    const big = await readCapped(Readable.from([Buffer.from('abc'), Buffer.from('defg')]), 6);
    expect(big).toEqual({ bytes: undefined, size: 7 });
  });

  it('stop an upload past the cap with MEF_SPAM_RSPAMD_TOO_LARGE, and read the source to its end', async () => {
    const raw = Readable.from([Buffer.alloc(4), Buffer.alloc(4), Buffer.alloc(4)]);
    const upload = capUpload(raw, 6);
    const failed = new Promise<unknown>((resolve) => upload.stream.once('error', resolve));
    upload.stream.resume();
    const err = await failed;
    expect(err).toBeInstanceOf(SpamError);
    expect((err as SpamError).code).toBe('MEF_SPAM_RSPAMD_TOO_LARGE');
    expect(upload.stream.over).toBe(true);
    await upload.settle();
    expect(raw.readableEnded).toBe(true);
  });
});
