import { createEngine } from '@mef/core/hosts';
import { buildMessage, expectVerdict, runPlugin } from '@mef/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genericList, rbl } from '../src/index.js';
import { lists } from './helpers/lists.js';
import { type CountingProxy, countingProxy, type SilentServer, silentServer } from './helpers/udp.js';

const { port, zen, dbl, clean } = lists();

describe('rbl() in the engine, over a slow or silent network', () => {
  describe('through a counting proxy', () => {
    let proxy: CountingProxy;
    let slow: CountingProxy;
    beforeAll(async () => {
      proxy = await countingProxy(port);
      slow = await countingProxy(port, { delay: 150 });
    });
    afterAll(async () => {
      await proxy.close();
      await slow.close();
    });

    it('answers a second scan from the cache: no query', async () => {
      const engine = createEngine().use(
        rbl({
          servers: [`127.0.0.1:${proxy.port}`],
          lists: [zen(), dbl()],
          probeAtStart: false,
          probeInterval: 0,
        }),
      );
      const msg = buildMessage({ text: 'http://spammer.com/ http://clean.com/', from: 'a@clean.com' });
      const env = { clientAddress: '192.0.2.4', helo: 'mail.clean.com', mailFrom: 'a@clean.com' };
      proxy.reset();
      const first = await engine.scan(msg, env);
      const queries = proxy.count;
      expect(queries).toBeGreaterThan(0);
      proxy.reset();
      const second = await engine.scan(msg, env);
      expect(proxy.count).toBe(0);
      expect(second.symbols.map((s) => s.name).sort()).toEqual(first.symbols.map((s) => s.name).sort());
      expectVerdict(second).toHaveSymbol('RBL_ZEN_XBL').toHaveSymbol('DBL_SPAM');
      await engine.stop();
    });

    it('runs the lookups of a message in parallel: one slow round trip, not the sum', async () => {
      const domains = Array.from({ length: 12 }, (_, i) => `http://site${i}.com/`).join(' ');
      const engine = createEngine().use(
        rbl({
          servers: [`127.0.0.1:${slow.port}`],
          lists: [dbl(), genericList('multi.test', { checks: ['uri'] })],
          probeAtStart: false,
          probeInterval: 0,
        }),
      );
      const t0 = performance.now();
      const v = await engine.scan(buildMessage({ text: domains }), { clientAddress: '192.0.2.77' });
      const took = performance.now() - t0;
      expectVerdict(v).toAccept().toHaveNoErrors();
      // 24 lookups at 150 ms each would take 3.6 s one after the other
      expect(took).toBeLessThan(1500);
      await engine.stop();
    });
  });

  describe('against a silent server', () => {
    let silent: SilentServer;
    beforeAll(async () => {
      silent = await silentServer();
    });
    afterAll(async () => {
      await silent.close();
    });

    it('costs at most the timeout and accepts with RBL_ERROR (default policy)', async () => {
      const p = rbl({
        servers: [`127.0.0.1:${silent.port}`],
        lists: [zen({ reject: 'connect' }), dbl()],
        queryTimeout: 300,
        probeAtStart: false,
        probeInterval: 0,
      });
      const t0 = performance.now();
      const v = await runPlugin(p, buildMessage({ text: 'http://spammer.com/' }), {
        clientAddress: '192.0.2.4',
        helo: 'badhelo.org',
        mailFrom: 'a@badsender.com',
      });
      const took = performance.now() - t0;
      expectVerdict(v).toAccept().toHaveSymbol('RBL_ERROR', 0).toHaveError('MEF_RBL_TIMEOUT');
      expect(v.errors.every((e) => e.kind === 'timeout' && e.policy === 'accept')).toBe(true);
      // four phases (connect, HELO, MAIL FROM, message), each bounded by 300 ms
      expect(took).toBeLessThan(4 * 300 + 600);
    });

    it('applies a tempfail policy when configured', async () => {
      const p = rbl({
        servers: [`127.0.0.1:${silent.port}`],
        lists: [zen()],
        queryTimeout: 200,
        onError: 'tempfail',
        probeAtStart: false,
        probeInterval: 0,
      });
      const v = await runPlugin(p, buildMessage(), clean);
      expectVerdict(v).toTempfail().toHaveError('MEF_RBL_TIMEOUT');
    });

    it('starts even when the probe gets no answer, and says so in health()', async () => {
      const engine = createEngine().use(
        rbl({ servers: [`127.0.0.1:${silent.port}`], lists: [zen()], queryTimeout: 200, probeInterval: 0 }),
      );
      const t0 = performance.now();
      await engine.start();
      expect(performance.now() - t0).toBeLessThan(1000);
      const h = (await engine.health()).rbl;
      expect(h?.ok).toBe(false);
      expect(h?.detail).toMatch(/No DNS answer/);
      await engine.stop();
    });
  });
});
