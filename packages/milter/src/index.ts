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
export { type MilterOptions, MilterSession } from './session.js';
