import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import type { Plugin } from '../src/index.js';
import {
  buildMessage,
  expectVerdict,
  formatVerdict,
  messageFrom,
  runPlugin,
  streamSuite,
} from '../src/testing/index.js';

// The example plugin of docs/guides/writing-a-plugin.md: scores attachments with a banned extension.
function bannedExtensions(options: { extensions: string[]; score?: number }): Plugin {
  const re = new RegExp(
    `\\.(${options.extensions.map((e) => e.replace(/[^a-z0-9]/gi, '')).join('|')})$`,
    'i',
  );
  return {
    name: 'banned-extensions',
    core: '^0.1.0',
    message(ctx) {
      ctx.message.parts({ attachment: true }, async (part) => {
        // Read to the end: the one pass waits for every reader.
        for await (const _ of part.content);
        if (part.filename && re.test(part.filename)) {
          ctx.findings.symbol('BANNED_EXTENSION', options.score ?? 10, {
            group: 'attachments',
            options: [part.filename],
          });
        }
      });
    },
  };
}

describe('testing kit', () => {
  it('builds a transaction from a string and asserts on the verdict', async () => {
    const v = await runPlugin(
      bannedExtensions({ extensions: ['exe'] }),
      messageFrom.string('From: a@x\r\n\r\nhello\r\n'),
    );
    expectVerdict(v).toAccept().notToHaveSymbol('BANNED_EXTENSION').toHaveNoErrors();
  });

  it('builds a message with the builder and finds the banned attachment', async () => {
    const msg = buildMessage({ attachments: [{ filename: 'invoice.pdf.exe', content: 'MZ...' }] });
    const v = await runPlugin(bannedExtensions({ extensions: ['exe'], score: 16 }), msg);
    expectVerdict(v)
      .toReject()
      .toHaveSymbol('BANNED_EXTENSION', 16)
      .toHaveSymbolOption('BANNED_EXTENSION', 'invoice.pdf.exe');
  });

  it('fails with a readable message that prints the verdict', async () => {
    const v = await runPlugin(bannedExtensions({ extensions: ['exe'] }), buildMessage({ text: 'hi' }));
    let err: unknown;
    try {
      expectVerdict(v).toReject();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AssertionError);
    expect((err as Error).message).toContain('expected disposition reject, got accept');
    expect((err as Error).message).toContain('disposition: accept');
    expect(formatVerdict(v)).toContain('score: 0');
  });
});

streamSuite({ describe, it }, 'banned-extensions', () => bannedExtensions({ extensions: ['exe'] }), {
  message: buildMessage({
    text: 'see attachment',
    attachments: [{ filename: 'setup.exe', content: Buffer.alloc(50_000, 1) }],
  }),
  expect: { symbols: ['BANNED_EXTENSION'] },
});
