import { describe, expect, it } from 'vitest';
import { type MefPlugin, register } from '../src/index.js';

/** Haraka's plugin object as `register` uses it, with `config/mef.ini` holding `ini`. */
function pluginWith(ini: unknown): MefPlugin & { logged: string[] } {
  const logged: string[] = [];
  return {
    name: 'mef',
    config: { get: (name: string) => (name === 'mef.ini' ? ini : { bayes: { enabled: false } }) },
    register_hook: () => {},
    loginfo: (msg: string) => logged.push(msg),
    logerror: (msg: string) => logged.push(msg),
    logged,
  };
}

describe('config/mef.ini', () => {
  it('refuses a threads value that is not a whole number from 0 to 64', () => {
    for (const bad of ['abc', '-1', '1.5', '65']) {
      expect(() => register.call(pluginWith({ main: { threads: bad } }))).toThrow(
        `config/mef.ini: threads must be a whole number from 0 to 64, got ${bad}`,
      );
    }
  });

  it('runs the engine on the event loop without the file or with threads=0', () => {
    for (const ini of [undefined, { main: {} }, { main: { threads: '0' } }]) {
      const plugin = pluginWith(ini);
      register.call(plugin);
      expect(plugin.mef?.threads).toBeUndefined();
      expect(plugin.logged.join('\n')).toMatch(/; hooks: data, data_post, disconnect$/);
    }
  });
});
