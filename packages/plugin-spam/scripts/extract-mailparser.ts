import { HeaderBlock } from '@mef/core';
import { convert } from 'html-to-text';
import { simpleParser } from 'mailparser';
import type { MessageFeatures, PartInfo } from '../src/features.js';

/** Feature extraction with mailparser, used while the core engine is not available. */
export async function featuresWithMailparser(raw: Buffer): Promise<MessageFeatures> {
  let end = raw.indexOf('\r\n\r\n');
  let endLen = 4;
  const lf = raw.indexOf('\n\n');
  if (end === -1 || (lf !== -1 && lf < end)) {
    end = lf;
    endLen = 2;
  }
  const headerBytes = end === -1 ? raw : raw.subarray(0, end + endLen);
  const headers = HeaderBlock.parse(headerBytes);
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  let text = parsed.text ?? '';
  if (!text && html) text = convert(html, { wordwrap: false });
  const parts: PartInfo[] = [];
  if (parsed.text) parts.push({ contentType: 'text/plain', filename: undefined, disposition: undefined });
  if (html) parts.push({ contentType: 'text/html', filename: undefined, disposition: undefined });
  for (const a of parsed.attachments) {
    parts.push({
      contentType: a.contentType,
      filename: a.filename,
      disposition: a.contentDisposition,
    });
  }
  return { headers, subject: parsed.subject ?? '', text, html, parts };
}
