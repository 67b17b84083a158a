export * from './context.js';
export * from './errors.js';
export * from './plugin.js';
export * from './verdict.js';
export { HeaderBlock, type HeaderField } from './message/header-block.js';
