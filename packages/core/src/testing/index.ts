/**
 * The testing kit: build messages, run one stage, a plugin or a whole engine, and assert on
 * the verdict with readable failures. Framework-agnostic; `streamSuite` takes your test
 * runner's `describe` and `it`.
 */

export {
  compareErrorDocs,
  type ErrorDocsDifferences,
  type ErrorDocsOptions,
  errorDocsSuite,
  undefinedSourceCodes,
} from './error-docs.js';
export { expectVerdict, formatVerdict, VerdictAssertion } from './expect.js';
export type { StreamExpectation } from './expectation.js';
export {
  type BuildAttachment,
  type BuildOptions,
  buildMessage,
  type MessageSource,
  messageFrom,
} from './message.js';
export { missingReadmeExports, type ReadmeApiOptions, readmeApiNames } from './readme-api.js';
export { type RunOptions, runEngine, runPlugin } from './run.js';
export { type ShapeName, type ShapePayload, type ShapeSuiteOptions, shapeSuite, shapes } from './shapes.js';
export {
  generateLargeMessage,
  type StreamSuiteOptions,
  streamChecks,
  streamSuite,
  type TestApi,
} from './stream-suite.js';
