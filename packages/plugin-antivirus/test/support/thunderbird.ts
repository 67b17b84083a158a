/**
 * Messages whose payload Thunderbird shows as an attachment, each resting on one choice its
 * MIME code makes (comm-central `mailnews/mime/src/mimehdrs.cpp` `MimeHeaders_get`, and
 * `netwerk/mime/nsMIMEHeaderParamImpl.cpp` `DoParameterInternal`, which
 * `MimeHeaders_get_parameter` calls). In each, the boundary Thunderbird takes is `IN` (it
 * delimits the payload) and the other one `OUT` (it delimits a harmless text part).
 */
import { type Payload, twoLayers } from './evasions.js';

export interface ThunderbirdCase {
  /** The choice Thunderbird makes, in its code's terms. */
  readonly name: string;
  readonly message: Buffer;
}

/** The header fields given, then `OUT` around a text part and `IN` around the payload inside it. */
function build(fields: readonly string[], outer: string, inner: string, p: Payload): Buffer {
  return Buffer.from(twoLayers(fields, outer, inner, p), 'latin1');
}

/** One message per verified Thunderbird reading. */
export function thunderbirdCases(p: Payload): ThunderbirdCase[] {
  const mixed = 'multipart/mixed';
  return [
    {
      name: 'the first of two Content-Type fields counts (MimeHeaders_get stops at the first match)',
      message: build(
        [`Content-Type: ${mixed}; boundary="IN"`, `Content-Type: ${mixed}; boundary="OUT"`],
        'OUT',
        'IN',
        p,
      ),
    },
    {
      name: 'blanks between a field name and its colon are accepted (it backs up over them)',
      message: build(
        [`Content-Type : ${mixed}; boundary="IN"`, `Content-Type: ${mixed}; boundary="OUT"`],
        'OUT',
        'IN',
        p,
      ),
    },
    {
      name: 'a comment in a field name makes it another field (the name length must match)',
      message: build(
        [`Content-Type (x): ${mixed}; boundary="OUT"`, `Content-Type: ${mixed}; boundary="IN"`],
        'OUT',
        'IN',
        p,
      ),
    },
    {
      name: 'the first of two plain parameters counts (a second plain value is ignored)',
      message: build([`Content-Type: ${mixed}; boundary="IN"; boundary="OUT"`], 'OUT', 'IN', p),
    },
    {
      name: 'RFC 2231 continuations win over a plain parameter',
      message: build(
        [`Content-Type: ${mixed}; boundary="OUT"; boundary*0="I"; boundary*1="N"`],
        'OUT',
        'IN',
        p,
      ),
    },
    {
      name: "an RFC 2231 extended value (name*=charset'lang'value) wins over a plain parameter",
      message: build([`Content-Type: ${mixed}; boundary="OUT"; boundary*=us-ascii''IN`], 'OUT', 'IN', p),
    },
    {
      name: 'a comment before an unquoted value is part of the value (comments are not removed)',
      message: build([`Content-Type: ${mixed}; boundary=(x)IN`], 'IN', '(x)IN', p),
    },
    {
      name: 'an unquoted value ends at the first blank',
      message: build([`Content-Type: ${mixed}; boundary=IN OUT`], 'IN OUT', 'IN', p),
    },
    {
      name: 'the parameter scan stops at a value not followed by a semicolon',
      message: build([`Content-Type: ${mixed}; boundary="IN" junk; boundary*0="OUT"`], 'OUT', 'IN', p),
    },
    {
      name: 'a comma may stand for the first semicolon',
      message: build([`Content-Type: ${mixed}, boundary="IN"`], 'OUT', 'IN', p),
    },
  ];
}
