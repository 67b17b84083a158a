import { mefErrorClass } from '@mef/core';

/** The codes `@mef/plugin-rbl` defines, with a one-line meaning each. */
export const rblErrorCodes = {
  MEF_RBL_TIMEOUT: 'A DNS list query got no answer within the configured timeout.',
  MEF_RBL_UNAVAILABLE:
    'The DNS server refused the query or could not be reached (SERVFAIL, REFUSED, connection error).',
  MEF_RBL_LIST_ERROR:
    'A list answered with an error code (such as Spamhaus 127.255.255.254) or outside 127.0.0.0/8; the list is taken out of service for a while.',
  MEF_RBL_OUT_OF_SERVICE:
    'A list was skipped because an error answer or a failed health probe took it out of service.',
  MEF_RBL_PROBE_FAILED:
    'The health probe of a list failed: its test entry was not listed, or its unlisted test entry was.',
} as const;

/** A code defined by `@mef/plugin-rbl`. */
export type RblErrorCode = keyof typeof rblErrorCodes;

/** A DNS list failure. `code` is one of {@link rblErrorCodes}; `zone` is the zone queried, when the error belongs to one list. */
export const RblError = mefErrorClass<RblErrorCode, { zone: string }>('RblError', ['zone']);
/** An error made by `RblError`; `err instanceof RblError` narrows to this type. */
export type RblError = InstanceType<typeof RblError>;
