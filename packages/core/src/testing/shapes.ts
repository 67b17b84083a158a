import type { EngineOptions, ScanEnvelope } from '../engine/options.js';
import type { Plugin } from '../plugin.js';
import { checkExpectation, meets, type StreamExpectation } from './expectation.js';
import { runPlugin } from './run.js';
import type { TestApi } from './stream-suite.js';

/** What a stage must find, placed in each message shape by `shapes`. */
export interface ShapePayload {
  /** The detecting content (an EICAR file, a GTUBE text, a banned executable). */
  content: Buffer | string;
  /** File name of the part; omit for an inline body part. */
  filename?: string;
  /** Content type of the part. Default `application/octet-stream` with a file name, else `text/plain`. */
  contentType?: string;
  /** Extra root header fields (`Subject`, `From`, ...), as `Name: value` lines. */
  headers?: readonly string[];
}

/** The message shapes that once lost the findings of part handlers. */
export type ShapeName = 'wellFormed' | 'singlePart' | 'unterminatedMultipart' | 'cutMidLine';

const EOL = '\r\n';

function partHeaders(p: ShapePayload): string[] {
  const type = p.contentType ?? (p.filename ? 'application/octet-stream' : 'text/plain');
  const lines = [`Content-Type: ${type}${p.filename ? `; name="${p.filename}"` : '; charset=utf-8'}`];
  lines.push('Content-Transfer-Encoding: base64');
  if (p.filename) lines.push(`Content-Disposition: attachment; filename="${p.filename}"`);
  return lines;
}

function base64Lines(content: Buffer | string): string[] {
  const b = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return b.toString('base64').match(/.{1,76}/g) ?? [''];
}

/**
 * The same payload in each message shape a stage must handle: a well-formed multipart, a
 * single-part message (the payload is the whole body), a multipart with no closing
 * boundary, and one whose last part is cut mid-line (its last line has no line end and no
 * boundary follows). Run a stage over each and expect the same finding.
 */
export function shapes(payload: ShapePayload): Record<ShapeName, Buffer> {
  const root = [
    'From: Sender <sender@example.test>',
    'To: rcpt@example.test',
    'Date: Mon, 30 Nov 2026 10:00:00 +0000',
    'Message-ID: <shape@example.test>',
    'MIME-Version: 1.0',
    ...(payload.headers ?? ['Subject: Shapes']),
  ];
  const boundary = 'shape-boundary-42';
  const multipartHead = [...root, `Content-Type: multipart/mixed; boundary="${boundary}"`, ''];
  const textPart = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Please see the attached file.',
  ];
  const payloadPart = [`--${boundary}`, ...partHeaders(payload), '', ...base64Lines(payload.content)];
  const join = (lines: string[]) => Buffer.from(lines.join(EOL), 'utf8');
  return {
    wellFormed: join([...multipartHead, ...textPart, ...payloadPart, `--${boundary}--`, '']),
    singlePart: join([...root, ...partHeaders(payload), '', ...base64Lines(payload.content), '']),
    unterminatedMultipart: join([...multipartHead, ...textPart, ...payloadPart, '']),
    cutMidLine: join([...multipartHead, ...textPart, ...payloadPart]),
  };
}

/** Options of `shapeSuite`. */
export interface ShapeSuiteOptions {
  /** What the stage must find, placed in every shape. */
  payload: ShapePayload;
  /** What the stage must produce on every shape. */
  expect: StreamExpectation;
  /** Engine options for every run. */
  engine?: EngineOptions;
  /** Envelope of every run (client address, HELO, sender, recipients). */
  envelope?: ScanEnvelope;
  /** Per-check timeout for the test runner, ms. Default 60,000. */
  testTimeout?: number;
}

/**
 * Registers one test per message shape: the stage must produce `expect` on the payload in a
 * well-formed multipart, a single-part message, an unterminated multipart and a message cut
 * mid-line, with no error recorded.
 */
export function shapeSuite(
  api: TestApi,
  name: string,
  make: () => Plugin | Plugin[],
  options: ShapeSuiteOptions,
): void {
  checkExpectation('shapeSuite', options.expect);
  const messages = shapes(options.payload);
  api.describe(`${name}: message shapes`, () => {
    for (const [shape, message] of Object.entries(messages)) {
      api.it(
        `keeps its finding in the ${shape} shape`,
        async () => {
          const v = await runPlugin(make(), message, {
            ...(options.envelope ?? {}),
            ...(options.engine ? { engine: options.engine } : {}),
          });
          meets(v, options.expect, shape);
        },
        options.testTimeout ?? 60_000,
      );
    }
  });
}
