import type { Plugin } from '@mef/core';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** Example plugin: the GTUBE test string in the text gives a score of 1,000. */
export function gtube(): Plugin {
  return {
    name: 'example-gtube',
    core: '^0.1.0',
    async message(ctx) {
      const text = await ctx.message.text();
      if (text.text.includes(GTUBE)) ctx.findings.symbol('GTUBE', 1000, { group: 'spam' });
    },
  };
}

/** Example plugin: an attachment whose name hides an executable behind a document extension. */
export function doubleExtension(): Plugin {
  const re = /\.(pdf|docx?|xlsx?|jpe?g|png|txt|zip)\s*\.(exe|scr|com|bat|cmd|js|vbs|pif|msi)$/i;
  return {
    name: 'example-double-extension',
    core: '^0.1.0',
    message(ctx) {
      ctx.message.parts({ attachment: true }, async (part) => {
        part.skip(); // the name is enough: the content need not be decoded
        if (part.filename && re.test(part.filename)) {
          ctx.findings.symbol('DOUBLE_EXTENSION', 8, { group: 'attachments', options: [part.filename] });
          ctx.findings.reject({
            code: 554,
            enhanced: '5.7.1',
            text: `Attachment ${part.filename} is not allowed`,
          });
        }
      });
    },
  };
}
