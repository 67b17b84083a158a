// Over 400 lines: the engine contract (registration, phases, policies, errors) tested in one
// place; the message pass, stage completion and limits have files of their own.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { createEngine } from '../src/hosts/index.js';
import { coreVersion, MefError, PLUGIN_NAME, type Plugin } from '../src/index.js';
import { buildMessage, expectVerdict, runPlugin } from '../src/testing/index.js';
import { codeOf } from './support/code-of.js';

const msg = buildMessage({ text: 'hello' });

describe('registration', () => {
  it('keeps coreVersion in step with package.json', () => {
    expect(coreVersion).toBe(pkg.version);
  });

  it('rejects a value that is not a plugin with MEF_CORE_PLUGIN_INVALID', () => {
    const e = createEngine();
    expect(codeOf(() => e.use(null as unknown as Plugin))).toBe('MEF_CORE_PLUGIN_INVALID');
    expect(codeOf(() => e.use({ name: '' }))).toBe('MEF_CORE_PLUGIN_INVALID');
    expect(codeOf(() => e.use({ name: 'x', message: 5 } as unknown as Plugin))).toBe(
      'MEF_CORE_PLUGIN_INVALID',
    );
    expect(codeOf(() => e.use({ name: 'x', onError: 'maybe' } as unknown as Plugin))).toBe(
      'MEF_CORE_PLUGIN_INVALID',
    );
  });

  it('takes plugin names by the one rule PLUGIN_NAME: lower-case letters, digits and hyphens', () => {
    const e = createEngine();
    for (const name of ['Clamav', 'spam_rules', 'rbl.zen', '-x', 'a b']) {
      expect(PLUGIN_NAME.test(name), name).toBe(false);
      expect(
        codeOf(() => e.use({ name })),
        name,
      ).toBe('MEF_CORE_PLUGIN_INVALID');
    }
    for (const name of ['clamav', 'spam-rules', '9x']) {
      expect(PLUGIN_NAME.test(name), name).toBe(true);
      expect(() => e.use({ name }), name).not.toThrow();
    }
  });

  it('rejects a duplicate name with MEF_CORE_PLUGIN_DUPLICATE', () => {
    const e = createEngine().use({ name: 'a' });
    expect(codeOf(() => e.use({ name: 'a' }))).toBe('MEF_CORE_PLUGIN_DUPLICATE');
  });

  it('checks the core version range with MEF_CORE_PLUGIN_VERSION', () => {
    const e = createEngine();
    expect(codeOf(() => e.use({ name: 'a', core: '^9.0.0' }))).toBe('MEF_CORE_PLUGIN_VERSION');
    expect(codeOf(() => e.use({ name: 'b', core: 'not a range' }))).toBe('MEF_CORE_PLUGIN_VERSION');
    expect(() => e.use({ name: 'c', core: `^${coreVersion}` })).not.toThrow();
  });

  it('requires dependencies to be registered first with MEF_CORE_PLUGIN_DEPENDENCY', () => {
    const e = createEngine();
    expect(codeOf(() => e.use({ name: 'b', dependencies: ['a'] }))).toBe('MEF_CORE_PLUGIN_DEPENDENCY');
    e.use({ name: 'a' });
    expect(() => e.use({ name: 'b', dependencies: ['a'] })).not.toThrow();
  });

  it('freezes at first use with MEF_CORE_FROZEN', async () => {
    const e = createEngine().use({ name: 'a' });
    await e.start();
    expect(codeOf(() => e.use({ name: 'b' }))).toBe('MEF_CORE_FROZEN');
    await e.stop();
  });

  it('throws a TypeError that names the option and quotes the value', () => {
    expect(() => createEngine({ onError: 'sometimes' as 'accept' })).toThrow(/onError.*"sometimes"/);
    expect(() => createEngine({ thresholds: { reject: Number.NaN } })).toThrow(TypeError);
    expect(() => createEngine({ limits: { maxDepth: -1 } })).toThrow(/limits.maxDepth/);
  });

  it('refuses connections before start with MEF_CORE_NOT_STARTED', () => {
    expect(codeOf(() => createEngine().connection({ clientAddress: '127.0.0.1' }))).toBe(
      'MEF_CORE_NOT_STARTED',
    );
  });
});

/** A plugin that notes its setup and teardown in `calls`. */
const logged = (name: string, calls: string[]) => ({
  name,
  setup: () => void calls.push(`${name}:setup`),
  teardown: () => void calls.push(`${name}:teardown`),
});

describe('lifecycle', () => {
  it('runs hooks in lifecycle order and stages by priority', async () => {
    const calls: string[] = [];
    const mk = (name: string, priority: number): Plugin => ({
      name,
      priority,
      connect: () => void calls.push(`${name}:connect`),
      helo: () => void calls.push(`${name}:helo`),
      mailFrom: () => void calls.push(`${name}:mailFrom`),
      rcptTo: (ctx) => void calls.push(`${name}:rcptTo:${ctx.recipient.address}`),
      message: () => void calls.push(`${name}:message`),
      close: () => void calls.push(`${name}:close`),
    });
    const v = await runPlugin([mk('late', 200), mk('early', 10)], msg, { recipients: ['a@x', 'b@x'] });
    expectVerdict(v).toAccept();
    expect(calls).toEqual([
      'early:connect',
      'late:connect',
      'early:helo',
      'late:helo',
      'early:mailFrom',
      'late:mailFrom',
      'early:rcptTo:a@x',
      'late:rcptTo:a@x',
      'early:rcptTo:b@x',
      'late:rcptTo:b@x',
      'early:message',
      'late:message',
      'early:close',
      'late:close',
    ]);
  });

  it('gives stages the transaction context', async () => {
    let seen: Record<string, unknown> = {};
    await runPlugin(
      {
        name: 'ctx',
        message(ctx) {
          seen = {
            ip: ctx.tx.clientAddress,
            helo: ctx.tx.helo,
            from: ctx.tx.mailFrom?.address,
            size: ctx.tx.mailFrom?.params.SIZE,
            rcpts: ctx.tx.recipients.map((r) => r.address),
            user: ctx.tx.user,
            dir: ctx.tx.direction,
          };
        },
      },
      msg,
      {
        clientAddress: '::ffff:192.0.2.7',
        user: 'alice',
        direction: 'outbound',
        recipients: ['r@x'],
        mailFromParams: { size: '1234' },
      },
    );
    expect(seen).toEqual({
      ip: '192.0.2.7',
      helo: 'client.example.test',
      from: 'sender@example.test',
      size: '1234',
      rcpts: ['r@x'],
      user: 'alice',
      dir: 'outbound',
    });
  });

  it('runs setup at start and teardown at stop, in reverse order', async () => {
    const calls: string[] = [];
    const e = createEngine().use(logged('a', calls)).use(logged('b', calls));
    await e.start();
    await e.stop();
    expect(calls).toEqual(['a:setup', 'b:setup', 'b:teardown', 'a:teardown']);
  });

  it('reports a failing setup as MEF_CORE_SETUP_FAILED and tears down what started', async () => {
    const calls: string[] = [];
    const e = createEngine()
      .use(logged('a', calls))
      .use({
        name: 'b',
        setup: () => {
          throw new Error('no pool');
        },
      });
    await expect(e.start()).rejects.toMatchObject({ code: 'MEF_CORE_SETUP_FAILED' });
    expect(calls).toEqual(['a:setup', 'a:teardown']);
  });

  it('collects health checks, bounded by the stage timeout', async () => {
    const e = createEngine()
      .use({ name: 'ok', health: () => ({ ok: true }) })
      .use({
        name: 'down',
        health: async () => {
          throw new Error('refused');
        },
      })
      .use({ name: 'hang', stageTimeout: 50, health: () => new Promise(() => {}) });
    expect(await e.health()).toEqual({
      ok: { ok: true },
      down: { ok: false, detail: 'refused' },
      hang: { ok: false, detail: 'health check timed out' },
    });
  });
});

describe('failure policy', () => {
  for (const policy of ['tempfail', 'accept', 'reject'] as const) {
    it(`turns a timeout into an error finding plus ${policy}`, async () => {
      const v = await runPlugin(
        { name: 'slow', stageTimeout: 30, onError: policy, mailFrom: () => sleep(1000) },
        msg,
      );
      expect(v.disposition).toBe(policy);
      expect(v.errors[0]).toMatchObject({
        stage: 'slow',
        kind: 'timeout',
        code: 'MEF_CORE_TIMEOUT',
        policy,
        disposition: policy,
      });
    });
  }

  it('turns a throw and a rejected promise into errors with the engine default policy', async () => {
    const thrown = await runPlugin(
      {
        name: 'boom',
        connect: () => {
          throw new Error('bad');
        },
      },
      msg,
      { engine: { onError: 'accept' } },
    );
    expectVerdict(thrown).toAccept().toHaveError('MEF_CORE_STAGE_FAILED');
    const rejected = await runPlugin(
      {
        name: 'boom',
        message: async () => {
          throw new MefError('MEF_X_DOWN', 'scanner down');
        },
      },
      msg,
    );
    expectVerdict(rejected).toTempfail().toHaveError('MEF_X_DOWN');
  });

  it('turns findings.error into the stage policy', async () => {
    const v = await runPlugin(
      {
        name: 'av',
        onError: 'tempfail',
        message: (ctx) => ctx.findings.error('unavailable', 'MEF_AV_DOWN', 'clamd refused'),
      },
      msg,
    );
    expectVerdict(v).toTempfail().toHaveError('MEF_AV_DOWN');
  });

  it('records a MefError given to findings.error with its code, message and kind', async () => {
    const down = new MefError('MEF_X_DOWN', 'scanner down', { kind: 'unavailable' });
    const v = await runPlugin(
      {
        name: 'x',
        onError: 'accept',
        connect: (ctx) => ctx.findings.error(down),
        helo: (ctx) => ctx.findings.error(down, 'protocol'),
        mailFrom: (ctx) => ctx.findings.error(new MefError('MEF_X_BUG', 'bug')),
      },
      msg,
    );
    expect(v.errors.map((e) => [e.code, e.kind, e.message, e.disposition])).toEqual([
      ['MEF_X_DOWN', 'unavailable', 'scanner down', 'accept'],
      ['MEF_X_DOWN', 'protocol', 'scanner down', 'accept'],
      ['MEF_X_BUG', 'exception', 'bug', 'accept'],
    ]);
  });

  it('records the kind of a MefError a stage throws', async () => {
    const v = await runPlugin(
      {
        name: 'x',
        mailFrom: () => {
          throw new MefError('MEF_X_DOWN', 'scanner down', { kind: 'unavailable' });
        },
      },
      msg,
    );
    expect(v.errors.map((e) => [e.code, e.kind])).toEqual([['MEF_X_DOWN', 'unavailable']]);
  });

  it('counts a stage answer once: findings after a timeout are dropped', async () => {
    let late: Promise<void> | undefined;
    const v = await runPlugin(
      {
        name: 'late',
        stageTimeout: 20,
        onError: 'accept',
        mailFrom: (ctx) => {
          late = sleep(60).then(() =>
            ctx.findings.reject({ code: 550, enhanced: '5.7.1', text: 'too late' }),
          );
          return late;
        },
      },
      msg,
    );
    await late;
    expectVerdict(v).toAccept().toHaveError('MEF_CORE_TIMEOUT');
    expect(v.forced).toEqual([]);
  });

  it('times out a message stage that never finishes, after the end of the message', async () => {
    const v = await runPlugin({ name: 'stuck', stageTimeout: 50, message: () => new Promise(() => {}) }, msg);
    expectVerdict(v).toTempfail().toHaveError('MEF_CORE_TIMEOUT');
  });
});

describe('decisions across phases', () => {
  it('stops at a connect reject and does not read the message', async () => {
    let read = false;
    const v = await runPlugin(
      [
        {
          name: 'rbl',
          connect: (ctx) => ctx.findings.reject({ code: 554, enhanced: '5.7.1', text: 'listed' }),
        },
        {
          name: 'reader',
          message: () => {
            read = true;
          },
        },
      ],
      msg,
    );
    expectVerdict(v).toReject().toHaveReply(554, '5.7.1', 'listed');
    expect(v.scope).toBe('connection');
    expect(read).toBe(false);
  });

  it('rejects one recipient and keeps the others', async () => {
    const e = createEngine().use({
      name: 'rcpt',
      rcptTo: (ctx) => {
        if (ctx.recipient.address.startsWith('bad'))
          ctx.findings.reject({ code: 550, enhanced: '5.1.1', text: 'no such user' });
      },
    });
    await e.start();
    const conn = e.connection({ clientAddress: '192.0.2.1' });
    const tx = conn.transaction();
    await tx.mailFrom('a@x');
    const bad = await tx.rcptTo('bad@x');
    const good = await tx.rcptTo('good@x');
    expect(bad).toMatchObject({ disposition: 'reject', scope: 'recipient', recipient: 'bad@x' });
    expect(good.disposition).toBe('accept');
    expect(tx.context.recipients.map((r) => r.address)).toEqual(['good@x']);
    expectVerdict(await tx.data(msg)).toAccept();
    await tx.dispose();
    await conn.close();
    await e.stop();
  });

  it('adds connection symbols to the message score', async () => {
    const v = await runPlugin(
      [
        { name: 'rbl', connect: (ctx) => ctx.findings.symbol('RBL_TEST', 10) },
        { name: 'body', message: (ctx) => ctx.findings.symbol('BODY_TEST', 6) },
      ],
      msg,
    );
    expectVerdict(v).toReject().toHaveSymbol('RBL_TEST', 10).toHaveSymbol('BODY_TEST', 6);
    expect(v.score.value).toBe(16);
  });

  it('skips a stage for the transaction when an allowlist asks', async () => {
    const v = await runPlugin(
      [
        { name: 'dnswl', connect: (ctx) => ctx.findings.skip('spam', 'DNSWL hit') },
        { name: 'spam', message: (ctx) => ctx.findings.symbol('SPAMMY', 20) },
      ],
      msg,
    );
    expectVerdict(v).toAccept().notToHaveSymbol('SPAMMY');
  });

  it('shares typed state between stages', async () => {
    const v = await runPlugin(
      [
        {
          name: 'first',
          mailFrom: (ctx) => {
            (ctx.state as Record<string, unknown>).seen = 3;
          },
        },
        {
          name: 'second',
          message: (ctx) => ctx.findings.symbol('STATE', (ctx.state as { seen?: number }).seen ?? 0),
        },
      ],
      msg,
    );
    expectVerdict(v).toHaveSymbol('STATE', 3);
  });

  it('applies per-domain policy: monitor mode for one domain', async () => {
    const engine = {
      policy: (tx: { recipients: readonly { address: string }[] }) =>
        tx.recipients.some((r) => r.address.endsWith('@new.test')) ? { monitor: true } : undefined,
    };
    const plugin = (): Plugin => ({ name: 'spam', message: (ctx) => ctx.findings.symbol('SPAM', 30) });
    const monitored = await runPlugin(plugin(), msg, { recipients: ['a@new.test'], engine });
    expectVerdict(monitored).toAccept().toAddHeader('X-MEF-Monitor', 'would reject');
    const normal = await runPlugin(plugin(), msg, { recipients: ['a@old.test'], engine });
    expectVerdict(normal).toReject();
  });

  it('throws a TypeError for a bad symbol name or a header with a bare line break', async () => {
    const v = await runPlugin(
      { name: 'bad', onError: 'accept', message: (ctx) => ctx.findings.symbol('lower case', 1) },
      msg,
    );
    expect(v.errors[0]?.message).toMatch(/Invalid symbol name/);
    const h = await runPlugin(
      {
        name: 'bad',
        onError: 'accept',
        message: (ctx) => ctx.findings.addHeader('X-A', 'one\r\nInjected: yes'),
      },
      msg,
    );
    expect(h.errors[0]?.message).toMatch(/line breaks/);
  });
});
