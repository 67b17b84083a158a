// A worker thread runs plain JavaScript: this file lets it load the TypeScript sources (tsx).
import { register } from 'tsx/esm/api';

register();
await import('./relay-thread.ts');
