/**
 * The symbols of `@mef/plugin-auth`, named and scored as rspamd's policies group
 * (`scores.d/policies_group.conf`), and the pure functions that pick them from mailauth's
 * results.
 */
export const authSymbols = {
  R_SPF_ALLOW: -0.2,
  R_SPF_FAIL: 1,
  R_SPF_SOFTFAIL: 0,
  R_SPF_NEUTRAL: 0,
  R_SPF_NA: 0,
  R_SPF_DNSFAIL: 0,
  R_SPF_PERMFAIL: 0,
  R_DKIM_ALLOW: -0.2,
  R_DKIM_REJECT: 1,
  R_DKIM_TEMPFAIL: 0,
  R_DKIM_PERMFAIL: 0,
  R_DKIM_NA: 0,
  DMARC_POLICY_ALLOW: -0.5,
  DMARC_POLICY_REJECT: 2,
  DMARC_POLICY_QUARANTINE: 1.5,
  DMARC_POLICY_SOFTFAIL: 0.1,
  DMARC_NA: 0,
  DMARC_DNSFAIL: 0,
  DMARC_BAD_POLICY: 0.5,
  ARC_ALLOW: -1,
  ARC_REJECT: 1,
  ARC_INVALID: 0.5,
  ARC_DNSFAIL: 0,
  ARC_NA: 0,
  AUTH_SKIPPED_SIZE: 0,
} as const;

/** A symbol this plugin records. */
export type AuthSymbol = keyof typeof authSymbols;

/** One symbol picked from a result, with what it is about. */
export interface AuthFinding {
  readonly symbol: AuthSymbol;
  readonly options: readonly string[];
}

/** The part of a mailauth status the mapping reads. */
export interface ResultStatus {
  readonly result: string;
  readonly comment?: string | false | undefined;
}

/** SPF: one symbol for the result of the MAIL FROM (or, for a bounce, the HELO) identity. */
export function spfSymbol(status: ResultStatus): AuthSymbol {
  switch (status.result) {
    case 'pass':
      return 'R_SPF_ALLOW';
    case 'fail':
      return 'R_SPF_FAIL';
    case 'softfail':
      return 'R_SPF_SOFTFAIL';
    case 'neutral':
      return 'R_SPF_NEUTRAL';
    case 'temperror':
    case 'temperr':
      return 'R_SPF_DNSFAIL';
    case 'permerror':
      return 'R_SPF_PERMFAIL';
    default:
      return 'R_SPF_NA';
  }
}

/** DKIM: one symbol per distinct outcome, each with the signing domains it applies to. */
export function dkimFindings(
  results: readonly { status: ResultStatus; signingDomain?: string | undefined }[],
): AuthFinding[] {
  const by = new Map<AuthSymbol, string[]>();
  for (const r of results) {
    let symbol: AuthSymbol;
    switch (r.status.result) {
      case 'pass':
        symbol = 'R_DKIM_ALLOW';
        break;
      case 'fail':
        symbol = 'R_DKIM_REJECT';
        break;
      case 'temperror':
      case 'temperr':
        symbol = 'R_DKIM_TEMPFAIL';
        break;
      case 'none':
        continue;
      case 'neutral':
        // A body changed after signing is a broken signature, as rspamd counts it.
        symbol = r.status.comment === 'body hash did not verify' ? 'R_DKIM_REJECT' : 'R_DKIM_PERMFAIL';
        break;
      default:
        // permerror, neutral (a signature that cannot be processed), policy (a weak key)
        symbol = 'R_DKIM_PERMFAIL';
    }
    const list = by.get(symbol) ?? [];
    const label = `${r.signingDomain ?? '-'}:${r.status.result}`;
    if (!list.includes(label)) list.push(label);
    by.set(symbol, list);
  }
  if (by.size === 0) return [{ symbol: 'R_DKIM_NA', options: [] }];
  return [...by].map(([symbol, options]) => ({ symbol, options }));
}

/** What the plugin reads of a DMARC result. */
export interface DmarcLike {
  readonly status: ResultStatus;
  readonly policy?: string | undefined;
  readonly p?: string | undefined;
  readonly domain?: string | undefined;
}

/** DMARC: the result, with the published policy deciding the symbol of a failure. */
export function dmarcSymbol(result: DmarcLike | false): AuthSymbol {
  if (!result) return 'DMARC_NA';
  switch (result.status.result) {
    case 'pass':
      return 'DMARC_POLICY_ALLOW';
    case 'fail': {
      const policy = (result.policy ?? result.p ?? 'none').toLowerCase();
      if (policy === 'reject') return 'DMARC_POLICY_REJECT';
      if (policy === 'quarantine') return 'DMARC_POLICY_QUARANTINE';
      return 'DMARC_POLICY_SOFTFAIL';
    }
    case 'temperror':
    case 'temperr':
      return 'DMARC_DNSFAIL';
    case 'permerror':
      return 'DMARC_BAD_POLICY';
    default:
      return 'DMARC_NA';
  }
}

/** ARC: the validation result of the chain. */
export function arcSymbol(status: ResultStatus | undefined): AuthSymbol {
  switch (status?.result) {
    case 'pass':
      return 'ARC_ALLOW';
    case 'fail':
      return 'ARC_REJECT';
    case 'temperror':
    case 'temperr':
      return 'ARC_DNSFAIL';
    case 'none':
    case undefined:
      return 'ARC_NA';
    default:
      return 'ARC_INVALID';
  }
}
