import { describe, expect, it } from 'vitest';
import type { HarakaConnection } from '../src/haraka.js';
import { hook_disconnect, type MefPlugin, register } from '../src/index.js';

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

describe('disconnect with the thread pool', () => {
  it('ends the message a thread is still scanning, so the thread drops it', async () => {
    const ended: (string | undefined)[] = [];
    // What viaThreads leaves on the connection while Haraka's message_stream is being read.
    const scan = { write: () => {}, end: async (error?: string) => void ended.push(error) };
    const connection = { notes: { mef_thread_scan: scan } as Record<string, unknown> };
    let nexts = 0;
    const plugin = pluginWith(undefined);
    hook_disconnect.call(plugin, () => void nexts++, connection as unknown as HarakaConnection);
    expect(nexts).toBe(1);
    expect(ended).toEqual(['the client disconnected before the message was read']);
    expect(connection.notes.mef_thread_scan).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(plugin.logged.filter((l) => /haraka-plugin-mef:/.test(l))).toEqual([]);
  });
});
