import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { HarakaConnection } from '../src/haraka.js';
import { hook_disconnect, type MefPlugin, register, shutdown, threadsOf } from '../src/index.js';

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
  it('refuses a threads value that is not auto or a whole number from 0 to 64', () => {
    for (const bad of ['abc', '-1', '1.5', '65']) {
      expect(() => register.call(pluginWith({ main: { threads: bad } }))).toThrow(
        `config/mef.ini: threads must be auto or a whole number from 0 to 64, got ${bad}`,
      );
    }
  });

  it('runs one thread by default (auto) with 2 or more CPUs, none with one CPU', () => {
    for (const ini of [undefined, {}, { main: {} }, { main: { threads: 'auto' } }]) {
      expect(threadsOf(ini, 1)).toBe(0);
      expect(threadsOf(ini, 2)).toBe(1);
      expect(threadsOf(ini, 16)).toBe(1);
    }
    expect(threadsOf({ main: { threads: '3' } }, 1)).toBe(3);
    expect(threadsOf({ main: { threads: '0' } }, 16)).toBe(0);
  });

  it('runs the engine on the event loop with threads=0', () => {
    const plugin = pluginWith({ main: { threads: '0' } });
    register.call(plugin);
    expect(plugin.mef?.threads).toBeUndefined();
    expect(plugin.logged.join('\n')).toMatch(
      /; hooks: data, data_post, disconnect, the message phase on the event loop$/,
    );
  });

  it('starts the default pool on this machine, and no engine on the event loop', () => {
    const plugin = pluginWith(undefined);
    register.call(plugin);
    try {
      expect(plugin.mef?.threads?.size ?? 0).toBe(availableParallelism() >= 2 ? 1 : 0);
    } finally {
      shutdown.call(plugin);
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
