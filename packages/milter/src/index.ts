export { encodeAction, encodeDelRcpt } from './actions.js';
export { MilterError, type MilterErrorCode, milterErrorCodes } from './errors.js';
export {
  type ConnectInfo,
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  FrameDecoder,
  joinStrings,
  parseAddressArgs,
  parseConnect,
  parseMacros,
  parseOptneg,
  splitStrings,
} from './frame.js';
export type { MilterOptions } from './options.js';
export {
  ActionFlag,
  Command,
  type Frame,
  MILTER_VERSION,
  type Negotiated,
  ProtocolFlag,
  Reply,
} from './protocol.js';
export { createMilterServer, type MilterListen, MilterServer } from './server.js';
export { MilterSession } from './session.js';
