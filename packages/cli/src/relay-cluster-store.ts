/**
 * The admin database of `mef relay` run as several processes. The primary alone opens it
 * (`linkRelay`): one settings poll per relay host, whatever the number of workers. Each time the
 * poll finds the settings changed, the primary hands the new snapshot, numbered by its generation,
 * to every worker over cluster IPC; a worker applies it at once (its next transaction uses it)
 * and answers with the generation, and the primary prints one line once every worker has applied
 * it. A worker asks for the current snapshot before it listens, so a replacement for a worker that
 * died serves with the settings in force, never with the file's seed.
 *
 * The verdict log goes the same way, backwards: a worker sends each transaction's record to the
 * primary, which writes it. Workers then hold no database connection at all, so with SQLite no
 * worker ever waits on another's write lock (better-sqlite3 waits synchronously, which would
 * stall every session of that worker), and with PostgreSQL a relay host uses one pool, not one
 * per worker. The records of one worker reach the primary in order; the primary's writes are
 * bounded (`linkRelay`'s `maxPendingWrites`); a worker that dies has sent every record of the
 * transactions it finished.
 */
import type { Worker } from 'node:cluster';
import type { RelayLink } from '@mef/admin';
import type { DomainSettings, DomainSettingsSource, TransactionRecord } from '@mef/relay';
import type { Io } from './program.js';

/** What the primary sends a worker about the store. */
export type StoreToWorker = { type: 'settings'; generation: number; domains: Record<string, DomainSettings> };

/** What a worker sends the primary about the store. */
export type StoreFromWorker =
  | { type: 'settings-wanted' }
  | { type: 'settings-applied'; generation: number }
  | { type: 'transaction'; record: TransactionRecord };

/** A relay process's tie to the admin store: `createRelay`'s `domainSettings` and `onTransaction`. */
export interface StoreLink {
  readonly domainSettings: DomainSettingsSource;
  readonly onTransaction: (record: TransactionRecord) => void;
  close(): Promise<void>;
}

/** Sends `msg` to a worker that can still hear it; a worker on its way out is left alone. */
export function sendTo(w: Worker, msg: unknown): void {
  if (w.isConnected()) w.send(msg as object, undefined, () => undefined);
}

/**
 * The worker's side: asks the primary for the settings and resolves once the first snapshot is
 * in force (or fails after `timeoutMs`); later snapshots replace it as they come.
 */
export function workerStoreLink(
  listen: (handler: (msg: StoreToWorker | { type: string }) => void) => void,
  send: (msg: StoreFromWorker) => void,
  timeoutMs = 60_000,
): Promise<StoreLink> {
  let current = new Map<string, DomainSettings>();
  let generation = 0;
  const link: StoreLink = {
    domainSettings: { get: (domain) => current.get(domain.toLowerCase()) },
    onTransaction: (record) => send({ type: 'transaction', record }),
    close: async () => undefined,
  };
  return new Promise<StoreLink>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no domain settings from the primary within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    listen((msg) => {
      if (msg.type !== 'settings') return;
      const m = msg as StoreToWorker;
      // IPC keeps the order; an older generation (the answer to the first request, overtaken
      // by a change) is not applied over a newer one.
      if (m.generation <= generation) return;
      current = new Map(Object.entries(m.domains));
      generation = m.generation;
      send({ type: 'settings-applied', generation });
      clearTimeout(timer);
      resolve(link);
    });
    send({ type: 'settings-wanted' });
  });
}

/** The primary's side, for {@link runPrimary}'s workers. */
export interface StoreHub {
  /** Handles a worker's message about the store; false when it is about something else. */
  handle(w: Worker, msg: { type: string }): boolean;
  /** Forgets a worker that exited. */
  exited(w: Worker): void;
  /** Stops handing changes on (the link itself is closed by its owner). */
  close(): void;
}

/**
 * Shares `link` (opened by the primary) with the `workers()`; prints one line per generation
 * applied by all, and one naming the workers that have not applied a generation after `lagMs`.
 */
export function storeHub(
  link: RelayLink,
  io: Io,
  workers: () => ReadonlySet<Worker>,
  lagMs = 10_000,
): StoreHub {
  const source = link.domainSettings;
  const applied = new Map<Worker, number>();
  // The generation the workers start with is no change: no line for it.
  let reported = source.generation;
  const snapshot = (): StoreToWorker => ({
    type: 'settings',
    generation: source.generation,
    domains: source.snapshot(),
  });
  const check = (): void => {
    const g = source.generation;
    const live = workers();
    if (g <= reported || live.size === 0) return;
    for (const w of live) if ((applied.get(w) ?? 0) < g) return;
    reported = g;
    io.stderr(`mef relay: settings generation ${g} from the database in force in all ${live.size} workers\n`);
  };
  let lagTimer: NodeJS.Timeout | undefined;
  const off = source.onChange(() => {
    const msg = snapshot();
    for (const w of workers()) sendTo(w, msg);
    // A worker that does not answer (stopped, or its event loop blocked) holds the line back:
    // say which one, so that the missing line is not silent.
    clearTimeout(lagTimer);
    lagTimer = setTimeout(() => {
      if (reported >= msg.generation) return;
      const behind = [...workers()].filter((w) => (applied.get(w) ?? 0) < msg.generation);
      if (!behind.length) return;
      io.stderr(
        `mef relay: settings generation ${msg.generation} not applied by worker ${behind.map((w) => w.process.pid).join(', ')} within ${lagMs / 1000} s; still waiting\n`,
      );
    }, lagMs);
    lagTimer.unref();
  });
  return {
    handle(w, msg) {
      const m = msg as StoreFromWorker;
      switch (m.type) {
        case 'settings-wanted':
          sendTo(w, snapshot());
          return true;
        case 'settings-applied':
          applied.set(w, m.generation);
          check();
          return true;
        case 'transaction':
          link.onTransaction(m.record);
          return true;
        default:
          return false;
      }
    },
    exited(w) {
      applied.delete(w);
      check();
    },
    close() {
      off();
      clearTimeout(lagTimer);
    },
  };
}
