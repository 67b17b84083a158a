import semver from 'semver';
import { MefError } from '../errors.js';
import type { Plugin } from '../plugin.js';
import type { ErrorPolicy } from '../verdict.js';
import { coreVersion } from '../version.js';
import type { EngineOptions } from './options.js';

/**
 * The rule for a plugin's name, for the engine and every plugin factory: lower-case letters,
 * digits and hyphens, starting with a letter or digit (`clamav`, `spam-rules`). The name
 * appears in symbols' origins, logs, metrics labels and config keys, so it stays plain.
 */
export const PLUGIN_NAME: RegExp = /^[a-z0-9][a-z0-9-]*$/;

const HOOKS = [
  'connect',
  'helo',
  'mailFrom',
  'rcptTo',
  'message',
  'scored',
  'close',
  'setup',
  'teardown',
  'health',
] as const;

/** A registered plugin with its effective settings: one stage of the engine's run order. */
export interface RegisteredStage {
  readonly plugin: Plugin;
  readonly name: string;
  /** The plugin's `stageTimeout` or the engine's, in ms. */
  readonly stageTimeout: number;
  readonly onError: ErrorPolicy;
  readonly priority: number;
  /** Registration order, which breaks priority ties. */
  readonly order: number;
}

function invalid(message: string): MefError {
  return new MefError('MEF_CORE_PLUGIN_INVALID', message);
}

/** Throws `MEF_CORE_PLUGIN_INVALID` unless the value has the shape of a plugin. */
function checkShape(p: unknown): asserts p is Plugin {
  if (!p || typeof p !== 'object') throw invalid(`use() expects a plugin object, got ${String(p)}`);
  const plugin = p as Record<string, unknown>;
  if (typeof plugin.name !== 'string' || !PLUGIN_NAME.test(plugin.name)) {
    throw invalid(
      `a plugin needs a name of lower-case letters, digits and hyphens, got ${JSON.stringify(plugin.name)}`,
    );
  }
  for (const h of HOOKS) {
    if (plugin[h] !== undefined && typeof plugin[h] !== 'function') {
      throw invalid(`plugin ${plugin.name}: ${h} must be a function`);
    }
  }
  for (const key of ['stageTimeout', 'priority'] as const) {
    const v = plugin[key];
    if (
      v !== undefined &&
      (typeof v !== 'number' || !Number.isFinite(v) || (key === 'stageTimeout' && v <= 0))
    ) {
      throw invalid(`plugin ${plugin.name}: ${key} must be a number, got ${String(v)}`);
    }
  }
  if (plugin.onError !== undefined && !['tempfail', 'accept', 'reject'].includes(plugin.onError as string)) {
    throw invalid(
      `plugin ${plugin.name}: onError must be tempfail, accept or reject, got ${JSON.stringify(plugin.onError)}`,
    );
  }
}

/**
 * Checks a plugin against those registered before it (shape, unique name, core range,
 * dependencies) and returns it as a stage with the engine's defaults filled in.
 */
export function registerStage(
  registered: readonly RegisteredStage[],
  plugin: unknown,
  options: EngineOptions,
): RegisteredStage {
  checkShape(plugin);
  if (registered.some((s) => s.name === plugin.name)) {
    throw new MefError('MEF_CORE_PLUGIN_DUPLICATE', `a plugin named ${plugin.name} is already registered`);
  }
  if (plugin.core !== undefined) {
    if (!semver.validRange(plugin.core)) {
      throw new MefError(
        'MEF_CORE_PLUGIN_VERSION',
        `plugin ${plugin.name}: invalid core range ${plugin.core}`,
      );
    }
    if (!semver.satisfies(coreVersion, plugin.core, { includePrerelease: true })) {
      throw new MefError(
        'MEF_CORE_PLUGIN_VERSION',
        `plugin ${plugin.name} wants core ${plugin.core}, this is ${coreVersion}`,
      );
    }
  }
  for (const dep of plugin.dependencies ?? []) {
    if (!registered.some((s) => s.name === dep)) {
      throw new MefError(
        'MEF_CORE_PLUGIN_DEPENDENCY',
        `plugin ${plugin.name} depends on ${dep}, which is not registered before it`,
      );
    }
  }
  return {
    plugin,
    name: plugin.name,
    stageTimeout: plugin.stageTimeout ?? options.stageTimeout ?? 30_000,
    onError: plugin.onError ?? options.onError ?? 'tempfail',
    priority: plugin.priority ?? 100,
    order: registered.length,
  };
}
