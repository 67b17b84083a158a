import type { Logger } from '@mef/core';
import type { Engine, ThreadPool } from '@mef/core/hosts';

/** Options of a milter session (and of the server that opens one per MTA connection). */
export interface MilterOptions {
  /** The engine every message runs through; started by the server's `listen`. */
  readonly engine: Engine;
  /**
   * When the MTA hears our answers.
   * - `each-command` (default): after every command whose phase has a stage, so a refused
   *   recipient is refused at RCPT and a refused client at CONNECT; the MTA waits for each
   *   answer. A phase no stage acts at (`engine.stagesAt`) gets its no-reply flag instead,
   *   and BODY gets one unless the engine's size limit is below Postfix's (see SKIP).
   * - `end-of-message`: the MTA waits only at DATA and at end of message (the no-reply flags
   *   `SMFIP_NR_CONN`, `_HELO`, `_MAIL`, `_RCPT`, `_BODY`, as rspamd's milter asks); the engine
   *   still runs every phase as it happens, and a refusal found at an envelope phase is given
   *   at end of message, a refused recipient among accepted ones is removed with DELRCPT.
   *
   * In both, DATA is answered (CONTINUE, at once): that answer acknowledges the envelope
   * Postfix sent in the same write, so the message is not held for the delayed ACK (README).
   */
  readonly replyAt?: 'each-command' | 'end-of-message';
  /**
   * While a verdict is pending, send PROGRESS this often (ms; the first within two intervals),
   * so that the MTA's timeout (Postfix `milter_content_timeout`, 300 s;
   * `milter_command_timeout`, 30 s) does not fire. Keep it under half the shorter timeout.
   * Default 10,000.
   */
  readonly progressInterval?: number;
  /** Largest frame accepted (bytes). Default 1 MiB + 1 KiB. */
  readonly maxFrameSize?: number;
  /** Close a connection idle this long (ms). Default 900,000 (15 min). */
  readonly idleTimeout?: number;
  /** Logger; default: the engine's. */
  readonly log?: Logger;
  /**
   * Worker threads for the message phase (core's `ThreadPool`, each thread with an engine built
   * like `engine`; `mef milter` makes one with `milter.threads`). Used when no stage of
   * `engine` acts at an envelope phase: `engine` then answers the envelope commands (no stage,
   * so accept), the header and body go to a thread with the envelope, and the thread's verdict
   * answers end of message. Default: none, the message phase runs on this event loop.
   */
  readonly threads?: ThreadPool;
}
