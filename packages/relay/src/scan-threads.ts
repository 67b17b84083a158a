/**
 * The message phase in worker threads (`relay.threads`): the SMTP event loop keeps the sessions,
 * the envelope, the relay's own stage (Received, loop guard, forged headers) and the kept copy;
 * the filters' message stages (rules, attachments, scanners) run in core's `ThreadPool`, each
 * thread with an engine built from the same configuration. A stage on the event loop
 * (`mef-threads`) streams the message to a thread and records what the thread's stages found,
 * so the relay's engine decides the verdict (thresholds, per-domain policy, monitor mode) as
 * without threads. Used only when every filter acts on the message alone (no envelope hook).
 */
import type { Findings, HeaderMutation, Plugin, Verdict } from '@mef/core';
import { createEngine, serveThread, type ThreadPool } from '@mef/core/hosts';
import type { RelayConfig } from './create-relay.js';
import { type BuildPluginsOptions, buildPlugins, type GroupedPlugin } from './filters.js';

/** The envelope parameter that carries the stages skipped on the event loop to the thread. */
const SKIP_PARAM = 'X-MEF-SKIP';
/** The stage name of the thread's skip plugin (its findings are not copied back). */
const SKIP_STAGE = 'mef-relay-skips';

const ENVELOPE_HOOKS = ['connect', 'helo', 'mailFrom', 'rcptTo', 'scored', 'close'] as const;

/** True when every plugin acts on the message alone, so its stages can run in a thread. */
export function messageOnly(plugins: readonly GroupedPlugin[]): boolean {
  return plugins.every((p) => ENVELOPE_HOOKS.every((h) => typeof p.plugin[h] !== 'function'));
}

/**
 * What stays of a thread-run plugin on the event loop: its name and health check (for
 * `/healthz`), no stage.
 */
export function healthOnly(plugin: Plugin): Plugin {
  const health = plugin.health?.bind(plugin);
  return { name: plugin.name, ...(health ? { health } : {}) };
}

function replayMutation(f: Findings, m: HeaderMutation): void {
  if (m.op === 'add') f.addHeader(m.name, m.value);
  else if (m.op === 'prepend') f.prependHeader(m.name, m.value);
  else if (m.op === 'set') f.setHeader(m.name, m.value, m.index);
  else if (m.op === 'remove') f.removeHeader(m.name, m.index);
  else f.prefixSubject(m.prefix);
}

/**
 * Records a thread's message verdict as this stage's findings: its symbols, forced
 * dispositions, failures and header changes (the thread decides with no thresholds and no
 * monitor mode, so the relay's engine makes the only decision).
 */
export function replayVerdict(f: Findings, v: Verdict): void {
  for (const s of v.symbols) {
    if (s.stage === SKIP_STAGE) continue;
    f.symbol(s.name, s.score, {
      ...(s.group ? { group: s.group } : {}),
      ...(s.options ? { options: s.options } : {}),
      ...(s.description ? { description: s.description } : {}),
    });
  }
  for (const x of v.forced) {
    f.force(x.disposition, {
      ...(x.reply ? { reply: x.reply } : {}),
      scope: x.scope === 'connection' ? 'transaction' : x.scope,
      ...(x.disconnect !== undefined ? { disconnect: x.disconnect } : {}),
      reason: x.reason ?? x.stage,
    });
  }
  for (const e of v.errors) {
    // The thread applied the failing stage's own policy; the outcome is what counts here.
    if (e.disposition === 'tempfail') f.error(e.kind, e.code, `${e.stage}: ${e.message}`);
    else if (e.disposition !== 'accept')
      f.force(e.disposition, {
        reply: { code: 554, enhanced: '5.3.0', text: `Message refused: ${e.stage} failed` },
        reason: `${e.stage}: ${e.code}`,
      });
  }
  for (const m of v.mutations) if (m.stage !== 'engine') replayMutation(f, m);
}

/**
 * The event loop's stage that runs the message phase in `pool`: it streams the message to a
 * thread and records the thread's findings. A thread that fails (a crash, a stop) fails this
 * stage, which tempfails the message: the sender retries, nothing is lost.
 */
export function threadStage(pool: ThreadPool, stageTimeout: number): Plugin {
  return {
    name: 'mef-threads',
    // After the relay's own stage; the thread's stages have their own timeouts inside this one.
    priority: 1000,
    onError: 'tempfail',
    stageTimeout: stageTimeout * 2,
    async message(ctx) {
      const raw = ctx.message.raw();
      const tx = ctx.tx;
      const from = tx.mailFrom;
      const skipped = [...tx.skipped.keys()].join(',');
      // The sender's own parameters, without one of ours it may have written: the skip list is
      // the relay's alone (a sender must not switch a filter off).
      const params: Record<string, string | true> = {};
      for (const [k, v] of Object.entries(from?.params ?? {}))
        if (k.toUpperCase() !== SKIP_PARAM) params[k] = v;
      if (skipped) params[SKIP_PARAM] = skipped;
      const scan = pool.scan({
        connection: {
          clientAddress: tx.clientAddress,
          clientPort: tx.clientPort,
          ...(tx.reverseName ? { reverseName: tx.reverseName } : {}),
          ...(tx.tls ? { tls: tx.tls } : {}),
          direction: tx.direction,
        },
        ...(tx.helo ? { helo: tx.helo } : {}),
        ...(tx.user ? { user: tx.user } : {}),
        mailFrom: {
          address: from?.address ?? '',
          params,
        },
        rcptTo: tx.recipients.map((r) => r.address),
      });
      try {
        for await (const chunk of raw) scan.write(chunk as Uint8Array);
      } catch (err) {
        // Reading failed (the sender went away, the stage timed out): the thread drops the message.
        void scan.end((err as Error).message).catch(() => undefined);
        throw err;
      }
      const r = await scan.end();
      replayVerdict(ctx.findings, r.verdict);
    },
  };
}

/** The thread's plugin: skips the stages the event loop skipped (a domain's scanner switches). */
function skipsPlugin(): Plugin {
  return {
    name: SKIP_STAGE,
    priority: -1000,
    mailFrom(ctx) {
      const list = ctx.tx.mailFrom?.params[SKIP_PARAM];
      if (typeof list !== 'string') return;
      for (const stage of list.split(',')) if (stage) ctx.findings.skip(stage, 'skipped by the relay');
    },
  };
}

/**
 * The thread side: builds the message stages of `config` (as `createRelay` does) and serves
 * the pool's messages. Call it in the worker file that the pool starts.
 */
export function serveRelayThread(config: RelayConfig, filters: BuildPluginsOptions = {}): void {
  const built = buildPlugins(config, {
    ...filters,
    ...(config.relay.dnsLists ? { dnsListsAt: 'rcpt' as const } : {}),
  });
  const engine = createEngine({
    // No score action here: the relay's engine decides with the findings.
    thresholds: { reject: null, addHeader: null, greylist: null },
    ...(config.onError ? { onError: config.onError } : {}),
    ...(config.stageTimeout ? { stageTimeout: config.stageTimeout } : {}),
    limits: { maxMessageBytes: config.relay.maxMessageBytes },
    ...(config.relay.tempDir ? { store: { dir: config.relay.tempDir } } : {}),
  });
  engine.use(skipsPlugin());
  for (const p of built.plugins) engine.use(p.plugin);
  serveThread(engine);
}
