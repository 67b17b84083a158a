import { mefErrorClass } from '@mef/core';

/** The codes `@mef/plugin-auth` defines, with a one-line meaning each. */
export const authErrorCodes = {
  MEF_AUTH_DNS_TIMEOUT: 'No DNS answer came within the timeout for any lookup of the message.',
  MEF_AUTH_DNS_UNAVAILABLE:
    'The DNS server could not be reached or refused every lookup of the message (SERVFAIL, REFUSED, connection error).',
  MEF_AUTH_FAILED: 'mailauth failed on the message (a bug or a message it could not read).',
} as const;

/** A code defined by `@mef/plugin-auth`. */
export type AuthErrorCode = keyof typeof authErrorCodes;

/** An authentication failure. `code` is one of {@link authErrorCodes}. */
export const AuthError = mefErrorClass<AuthErrorCode>('AuthError');
/** An error made by `AuthError`; `err instanceof AuthError` narrows to this type. */
export type AuthError = InstanceType<typeof AuthError>;
