import { mefErrorClass } from '@mef/core';

/** The codes `@mef/admin` defines, with a one-line meaning each. */
export const adminErrorCodes = {
  MEF_ADMIN_DATABASE:
    'The database could not be opened or migrated (a bad SQLite path, or PostgreSQL refused the connection).',
  MEF_ADMIN_INVALID_INPUT:
    'A value given to the store (a user, a domain, its settings or a transaction record) failed validation.',
  MEF_ADMIN_UNKNOWN_DOMAIN: 'A user was given a domain that is not in the store.',
  MEF_ADMIN_DUPLICATE: 'A user or a domain with that name is already in the store.',
} as const;

/** A code defined by `@mef/admin`. */
export type AdminErrorCode = keyof typeof adminErrorCodes;

/** A failure of the admin store or server. `code` is one of {@link adminErrorCodes}. */
export const AdminError = mefErrorClass<AdminErrorCode>('AdminError');
/** An error made by `AdminError`; `err instanceof AdminError` narrows to this type. */
export type AdminError = InstanceType<typeof AdminError>;
