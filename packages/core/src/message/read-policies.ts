/**
 * The policies an ambiguous message is read again under (`readings.ts`), one per choice where
 * mail clients part ways.
 */
import type { ReadPolicy } from './mime-params.js';

/**
 * The readings run on an ambiguous message. Each fixes one choice where readers part ways
 * (the splitter itself takes the first field and parameter and strips comments); together they
 * cover the readings of mailparser (checked by the tests) and the choices the other readers are
 * known to make the other way.
 */
export const READ_POLICIES: readonly ReadPolicy[] = Object.freeze([
  // First field and parameter, comments and RFC 2231 honoured, the name from Content-Type
  // first; a body that is base64 is decoded whatever its header says.
  {
    name: 'lenient',
    field: 'first',
    param: 'first',
    comments: true,
    rfc2231: true,
    quotes: true,
    looseNames: true,
    filename: 'type',
    sniffBase64: true,
  },
  // A naive reader: last field and parameter, comments and quotes kept as text, no RFC 2231.
  {
    name: 'naive',
    field: 'last',
    param: 'last',
    comments: false,
    rfc2231: false,
    quotes: false,
    looseNames: false,
    filename: 'disposition',
    sniffBase64: false,
  },
  // The last field and parameter win, comments and RFC 2231 honoured.
  {
    name: 'last',
    field: 'last',
    param: 'last',
    comments: true,
    rfc2231: true,
    quotes: true,
    looseNames: true,
    filename: 'type',
    sniffBase64: true,
  },
  // Thunderbird's reading: the first field, its parameter scan (a `,` for the first `;`, an
  // unquoted value ends at a blank, the scan stops at junk, RFC 2231 wins), comments kept as
  // text, the name from Content-Disposition first.
  {
    name: 'thunderbird',
    field: 'first',
    param: 'first',
    comments: false,
    rfc2231: true,
    quotes: true,
    looseNames: true,
    filename: 'disposition',
    sniffBase64: false,
    paramScan: 'thunderbird',
  },
  // The first field, the last parameter, comments kept as text.
  {
    name: 'mixed',
    field: 'first',
    param: 'last',
    comments: false,
    rfc2231: true,
    quotes: true,
    looseNames: true,
    filename: 'disposition',
    sniffBase64: false,
  },
]);
