import { mefErrorClass } from '@mef/core';

/** Codes this package defines, with a one-line meaning each. */
export const spamErrorCodes = {
  MEF_SPAM_RULE_FAILED: 'A spam rule threw on a message; the rule is skipped and the failure recorded.',
  MEF_SPAM_BAYES_STORE: 'The Bayes model could not be read, written or reached (file or Redis).',
  MEF_SPAM_GREYLIST_STORE:
    'The greylist store (Redis) could not be read, written or reached; the stage onError policy decides.',
  MEF_SPAM_SCORES: 'A scores file (written by `mef train --scores`) could not be read or is not valid.',
  MEF_SPAM_SPAMD_UNAVAILABLE: 'spamd could not be reached (connection refused, reset or closed early).',
  MEF_SPAM_SPAMD_TIMEOUT: 'spamd did not answer within the timeout.',
  MEF_SPAM_SPAMD_PROTOCOL: 'spamd answered something that is not SPAMD/1.x, or a non-zero result code.',
  MEF_SPAM_RSPAMD_UNAVAILABLE: 'rspamd could not be reached (connection refused, reset or closed early).',
  MEF_SPAM_RSPAMD_TIMEOUT: 'rspamd did not answer within the timeout.',
  MEF_SPAM_RSPAMD_PROTOCOL: 'rspamd answered with a non-200 status or a body that is not the /checkv2 JSON.',
  MEF_SPAM_RSPAMD_TOO_LARGE:
    'The message passed the rspamd stage maxSize while it was streamed: the upload is stopped and `RSPAMD_SKIPPED_SIZE` recorded instead of an error.',
} as const;

/** A code defined by this package. */
export type SpamErrorCode = keyof typeof spamErrorCodes;

/** An error of this package; `code` is one of {@link spamErrorCodes}. */
export const SpamError = mefErrorClass<SpamErrorCode>('SpamError');
/** An error made by `SpamError`; `err instanceof SpamError` narrows to this type. */
export type SpamError = InstanceType<typeof SpamError>;
