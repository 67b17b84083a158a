import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/hosts/index.js';
import type { Logger, Plugin } from '../src/index.js';
import { expectVerdict, runPlugin, shapes } from '../src/testing/index.js';

/**
 * A stage is done when its work is done: the message hook, the pass, and every part
 * handler it registered have settled. Each shape below used to lose the finding of a stage
 * that records it in a part handler after `message()` returned.
 */
function bannedExe(options: { delayMs?: number; read?: boolean } = {}): Plugin {
  return {
    name: 'banned-exe',
    message(ctx) {
      ctx.message.parts({ attachment: true }, async (part) => {
        if (options.read !== false) for await (const _ of part.content);
        if (options.delayMs !== undefined) await sleep(options.delayMs);
        if (part.filename?.toLowerCase().endsWith('.exe')) {
          ctx.findings.symbol('BANNED_EXE', 20, { options: [part.filename] });
        }
      });
    },
  };
}

const cases = Object.entries(
  shapes({ filename: 'invoice.exe', content: Buffer.from('MZ harmless payload') }),
);

describe('a finding recorded in a part handler is kept', () => {
  it('has every shape the issue names', () => {
    expect(cases.map(([k]) => k).sort()).toEqual(
      ['cutMidLine', 'singlePart', 'unterminatedMultipart', 'wellFormed'].sort(),
    );
  });

  for (const [shape, message] of cases) {
    it(`${shape}: a synchronous handler`, async () => {
      const v = await runPlugin(bannedExe(), message);
      expectVerdict(v).toReject().toHaveSymbol('BANNED_EXE', 20).toHaveNoErrors();
    });

    it(`${shape}: a handler that awaits after reading`, async () => {
      const v = await runPlugin(bannedExe({ delayMs: 30 }), message);
      expectVerdict(v).toReject().toHaveSymbol('BANNED_EXE', 20).toHaveNoErrors();
    });

    it(`${shape}: a handler that never reads the content`, async () => {
      const started = Date.now();
      const v = await runPlugin(bannedExe({ read: false }), message, { engine: { stageTimeout: 5_000 } });
      expectVerdict(v).toReject().toHaveSymbol('BANNED_EXE', 20).toHaveNoErrors();
      // Skipped once it settles, instead of stalling the pass until the stage timeout.
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  }

  it('a handler that is still working at the stage timeout gives the timeout error, never a silent accept', async () => {
    const [, message] = cases.find(([k]) => k === 'singlePart')!;
    const v = await runPlugin(bannedExe({ delayMs: 2_000 }), message, { engine: { stageTimeout: 200 } });
    expectVerdict(v).toTempfail().toHaveError('MEF_CORE_TIMEOUT');
    expect(v.errors[0]?.stage).toBe('banned-exe');
  });

  it('logs and counts a finding recorded after the stage was sealed', async () => {
    const warnings: { obj: object; msg?: string }[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn(obj, msg) {
        warnings.push(msg === undefined ? { obj } : { obj, msg });
      },
    };
    const engine = createEngine({ stageTimeout: 100, logger, onError: 'accept' });
    engine.use(bannedExe({ delayMs: 400 }));
    const [, message] = cases.find(([k]) => k === 'wellFormed')!;
    const v = await engine.scan(message);
    expect(v.symbols.map((s) => s.name)).not.toContain('BANNED_EXE');
    await sleep(600);
    expect(engine.lateFindings).toBe(1);
    const late = warnings.find((w) => w.msg?.includes('after the stage was sealed'));
    expect(late?.obj).toMatchObject({ stage: 'banned-exe', finding: 'symbol BANNED_EXE' });
    await engine.stop();
  });
});

describe('the scored phase', () => {
  const scorer = (score: number): Plugin => ({
    name: 'scorer',
    message(ctx) {
      ctx.findings.symbol('SCORE', score);
    },
  });
  it('shows a stage the verdict, and decides again with what it forced', async () => {
    const seen: string[] = [];
    const deferrer: Plugin = {
      name: 'deferrer',
      scored(ctx) {
        seen.push(`${ctx.verdict.score.action}:${ctx.verdict.disposition}`);
        if (ctx.verdict.score.action === 'greylist') {
          ctx.findings.tempfail({ code: 451, enhanced: '4.7.1', text: 'Greylisted' });
        }
      },
    };
    const v = await runPlugin([scorer(5), deferrer], 'From: a@x\r\n\r\nhi\r\n');
    expect(seen).toEqual(['greylist:accept']);
    expectVerdict(v).toTempfail();
    expect(v.reply?.enhanced).toBe('4.7.1');
  });

  it('is not run when the message source failed', async () => {
    let ran = false;
    const engine = createEngine();
    engine.use(scorer(5)).use({
      name: 'watch',
      scored: () => {
        ran = true;
      },
    });
    const v = await engine.scan(
      (async function* () {
        yield Buffer.from('From: a@x\r\n\r\nhal');
        throw new Error('reset');
      })(),
    );
    expect(v.disposition).toBe('tempfail');
    expect(ran).toBe(false);
    await engine.stop();
  });
});
