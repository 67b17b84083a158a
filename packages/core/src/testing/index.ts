/**
 * The testing kit: build messages, run one stage, a plugin or a whole engine, and assert on
 * the verdict with readable failures. Framework-agnostic; `streamSuite` takes your test
 * runner's `describe` and `it`.
 */
export { buildMessage, type BuildOptions, messageFrom, type MessageSource } from './message.js';
export { compareErrorDocs } from './error-docs.js';
export { runEngine, runPlugin, type RunOptions, runStage } from './run.js';
export { expectVerdict, formatVerdict, VerdictAssertion } from './expect.js';
export {
  generateLargeMessage,
  type StreamSuiteOptions,
  streamSuite,
  streamChecks,
  type TestApi,
} from './stream-suite.js';
