import { mefErrorClass } from '@mef/core';

/**
 * The codes this package defines, with a one-line meaning each. They are recorded as
 * stage errors (`verdict.errors[].code`) or thrown by the clamd client; codes are never reused.
 */
export const antivirusErrorCodes = {
  MEF_AV_CLAMD_UNAVAILABLE:
    'No clamd host accepted a connection, or clamd closed the connection before it answered.',
  MEF_AV_CLAMD_TIMEOUT:
    'clamd did not accept a connection, take the next chunk or answer within its timeout.',
  MEF_AV_CLAMD_PROTOCOL: 'clamd answered with something that is not a clamd reply.',
  MEF_AV_CLAMD_ERROR: 'clamd answered ERROR for the scan (for example its StreamMaxLength was exceeded).',
  MEF_AV_SIZE_LIMIT: 'The message is larger than the maxSize option and the oversize policy is tempfail.',
} as const;

/** A code defined by this package. */
export type AntivirusErrorCode = keyof typeof antivirusErrorCodes;

/** An error of the clamd client or the clamav plugin; `kind` says how the stage failed. */
export const AntivirusError = mefErrorClass<AntivirusErrorCode>('AntivirusError');
/** An error made by `AntivirusError`; `err instanceof AntivirusError` narrows to this type. */
export type AntivirusError = InstanceType<typeof AntivirusError>;
