import { mefErrorClass } from '@mef/core';

/** The codes `@mef/milter` defines, with a one-line meaning each. */
export const milterErrorCodes = {
  MEF_MILTER_PROTOCOL:
    'The MTA sent a frame the milter protocol does not allow (bad length, unknown command, malformed payload or a command out of order); the milter closes the connection and the MTA applies its default action.',
  MEF_MILTER_FRAME_TOO_LARGE:
    'A frame announced a length above the limit (`maxFrameSize`); the connection is closed before the frame is read.',
  MEF_MILTER_VERSION: 'The MTA offered a milter protocol version older than 2.',
} as const;

/** A code defined by `@mef/milter`. */
export type MilterErrorCode = keyof typeof milterErrorCodes;

/** A milter protocol failure. `code` is one of {@link milterErrorCodes}. */
export const MilterError = mefErrorClass<MilterErrorCode>('MilterError');
/** An error made by `MilterError`; `err instanceof MilterError` narrows to this type. */
export type MilterError = InstanceType<typeof MilterError>;
