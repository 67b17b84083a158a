/**
 * A worker thread of the plugin's pool (core's `ThreadPool`, see `threads` in the README): its
 * own engine from the plugin's `config/mef.yaml`, serving the messages Haraka streams to it.
 */
import { workerData } from 'node:worker_threads';
import { buildEngine, resolveConfig, validateConfig } from '@mef/cli';
import { serveThread } from '@mef/core/hosts';

const { config } = workerData as { config: unknown };
serveThread(buildEngine(resolveConfig(validateConfig(config, 'config/mef.yaml'), {})).engine);
