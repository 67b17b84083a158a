import { HeaderBlock } from '@mef/core';
import type { MessageFeatures, PartInfo } from '../../src/features.js';

/** Builds features directly, for rule and tokenizer unit tests. */
export function features(
  headers: string,
  body: { text?: string; html?: string; subject?: string; parts?: Partial<PartInfo>[] } = {},
): MessageFeatures {
  const h = HeaderBlock.parse(headers.trim().replace(/\n/g, '\r\n'));
  const parts: PartInfo[] = (
    body.parts ?? [{ contentType: body.html && !body.text ? 'text/html' : 'text/plain' }]
  ).map((p) => ({
    contentType: p.contentType ?? 'text/plain',
    filename: p.filename,
    disposition: p.disposition,
  }));
  return {
    headers: h,
    subject: body.subject ?? h.getDecoded('subject') ?? '',
    text: body.text ?? '',
    html: body.html ?? '',
    parts,
  };
}

export const goodHeaders = `From: Alice Example <alice@example.com>
To: bob@example.org
Subject: Lunch on Thursday
Date: Tue, 3 Sep 2024 10:00:00 +0200
Message-ID: <abc123@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8`;

export function eml(headers: string, body: string): string {
  return `${headers.trim()}\n\n${body}`.replace(/\r?\n/g, '\r\n');
}
