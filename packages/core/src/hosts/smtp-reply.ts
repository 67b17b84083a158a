import type { Disposition, Reply, Verdict } from '../verdict.js';

/** The ordinary reply for each disposition, used when a verdict names none. */
export function defaultReply(d: Disposition): Reply {
  switch (d) {
    case 'accept':
    case 'discard':
    case 'quarantine':
      return { code: 250, enhanced: '2.0.0', lines: ['OK'] };
    case 'tempfail':
      return { code: 451, enhanced: '4.7.1', lines: ['Temporary failure, please try again later'] };
    case 'reject':
      return { code: 550, enhanced: '5.7.1', lines: ['Message rejected'] };
  }
}

/** The SMTP reply a host sends for a verdict. Codes always match the disposition's class. */
export function toSmtpReply(v: Verdict): Reply {
  const base = defaultReply(v.disposition);
  const r = v.reply;
  if (!r) return base;
  const cls = String(base.code)[0];
  if (String(r.code)[0] !== cls || !/^[245]\.\d{1,3}\.\d{1,3}$/.test(r.enhanced) || r.enhanced[0] !== cls) {
    // A stage asked for a reply that contradicts the disposition: keep its text, fix the codes.
    return { code: base.code, enhanced: base.enhanced, lines: r.lines.length ? r.lines : base.lines };
  }
  return { code: r.code, enhanced: r.enhanced, lines: r.lines.length ? r.lines : base.lines };
}

/** Formats a reply as SMTP wire lines (`550-5.7.1 first`, `550 5.7.1 last`). */
export function formatReply(r: Reply): string {
  const lines = r.lines.length ? r.lines : [''];
  return lines
    .map(
      (line, i) =>
        `${r.code}${i === lines.length - 1 ? ' ' : '-'}${r.enhanced} ${line.replace(/[\r\n]+/g, ' ')}`,
    )
    .join('\r\n');
}
