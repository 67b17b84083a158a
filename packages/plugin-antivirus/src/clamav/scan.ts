/**
 * One message's scan: the raw stream and/or each decoded part, each fed to its own
 * `zINSTREAM` session as the engine's one pass flows. Reading never waits for a reply, so the
 * pass is not held up by clamd beyond the socket's own backpressure.
 */
import type { MessageContext } from '@mef/core';
import type { ClamdClient } from '../clamd/client.js';
import type { InstreamSession } from '../clamd/instream-session.js';
import { oneLine } from '../detection.js';
import { AntivirusError } from '../errors.js';
import type { ClamavSettings } from './options.js';

/** A detection, and where it was found (`message`, `part 2 (invoice.zip)`). */
export interface Detection {
  readonly name: string;
  readonly heuristic: boolean;
  readonly where: string;
}

/** What the scan of one message gave. */
export interface ScanOutcome {
  readonly detections: readonly Detection[];
  readonly failures: readonly AntivirusError[];
  /** The message or a part was larger than `maxSize`, so it was not (wholly) scanned. */
  readonly oversize: boolean;
}

/** A counting semaphore: bounds the part connections open at once for one message. */
class ConnectionLimit {
  private free: number;
  private readonly queue: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.queue.push(r));
  }
  give(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

/** A scan in progress: what was found so far, and the replies still to come. */
class MessageScan {
  readonly detections: Detection[] = [];
  readonly failures: AntivirusError[] = [];
  oversize = false;
  readonly partReplies: Promise<void>[] = [];
  private readonly limit: ConnectionLimit;

  constructor(
    private readonly ctx: MessageContext,
    private readonly client: ClamdClient,
    private readonly settings: ClamavSettings,
  ) {
    this.limit = new ConnectionLimit(settings.maxConnections);
  }

  fail(err: unknown): void {
    this.failures.push(
      err instanceof AntivirusError
        ? err
        : new AntivirusError('MEF_AV_CLAMD_UNAVAILABLE', String((err as Error)?.message ?? err), {
            kind: 'unavailable',
            cause: err,
          }),
    );
  }

  /**
   * Feeds one stream to one INSTREAM session. Resolves when the stream is read to its end,
   * with the reply still pending (in a box, so that the promise is not adopted): the next
   * part flows while clamd scans this one. `beforeEnd` delays the terminator.
   */
  async feed(
    content: AsyncIterable<Buffer> | Iterable<Buffer>,
    where: string,
    beforeEnd?: () => Promise<unknown>,
  ): Promise<{ reply: Promise<void> } | undefined> {
    let session: InstreamSession | undefined;
    let holdsSlot = false;
    let bytes = 0;
    const drop = () => {
      session?.abort();
      session = undefined;
    };
    try {
      for await (const chunk of content) {
        bytes += chunk.length;
        if (bytes > this.settings.maxSize) this.oversize = true;
        if (this.oversize || this.failures.length > 0) {
          drop();
          continue; // keep draining: the pass must not stall on us
        }
        try {
          if (!session) {
            // Only part connections take a slot: the raw one is always open, so parts never
            // wait for it (that would stall the pass that the raw stream needs to finish).
            if (where !== 'message') {
              await this.limit.take();
              holdsSlot = true;
            }
            session = await this.client.instream(this.ctx.signal);
          }
          await session.write(chunk);
        } catch (err) {
          this.fail(err);
          drop();
        }
      }
    } catch (err) {
      // The view failed (an aborted source, a stage timeout): close our side too.
      drop();
      if (holdsSlot) this.limit.give();
      throw err;
    }
    if (!session) {
      if (holdsSlot) this.limit.give();
      return undefined;
    }
    const s = session;
    const reply = (beforeEnd ? beforeEnd().then(() => s.end()) : s.end())
      .then(
        (r) => {
          if (r.kind === 'found') this.detections.push({ name: r.name, heuristic: r.heuristic, where });
          else if (r.kind === 'error') {
            this.failures.push(
              new AntivirusError(
                'MEF_AV_CLAMD_ERROR',
                `clamd answered ${JSON.stringify(r.raw)} for ${where}`,
                { kind: /size limit/i.test(r.message) ? 'limit' : 'protocol' },
              ),
            );
          }
        },
        (err: unknown) => {
          this.client.markDown(s.address);
          this.fail(err);
        },
      )
      .finally(() => {
        if (holdsSlot) this.limit.give();
      });
    return { reply };
  }

  /** The message as received, on one connection; settles with clamd's answer. */
  scanRaw(): Promise<void> {
    // In both mode the raw terminator waits for the part replies: clamd then finds the
    // parts it just scanned in its cache of clean content when it unpacks the message, so
    // both costs about what raw alone costs (measured in bench/src/antivirus-clamd.ts).
    const beforeEnd = this.settings.mode === 'both' ? () => Promise.allSettled(this.partReplies) : undefined;
    return this.feed(this.ctx.message.raw(), 'message', beforeEnd).then(
      (box) => box?.reply,
      (err) => this.fail(err),
    );
  }

  /** Asks for the decoded parts; each goes to a connection of its own as it flows. */
  scanParts(): void {
    const both = this.settings.mode === 'both';
    this.ctx.message.parts({}, (part) => {
      if (
        both &&
        part.filename === undefined &&
        part.disposition !== 'attachment' &&
        /^text\/(plain|html)$/.test(part.contentType)
      ) {
        // The raw scan covers the inline text; a part of its own pays where a name is to report.
        part.skip();
        return undefined;
      }
      const where = `part ${part.partId}${part.filename ? ` (${oneLine(part.filename)})` : ''}`;
      // Core offers a part of another reading only when its name, type or bytes differ from
      // every part offered before, so each part goes to clamd once.
      const reply = this.feed(part.content, where).then(
        (box) => box?.reply,
        (err) => this.fail(err),
      );
      this.partReplies.push(reply);
      // The handler settles with clamd's answer for the part: the stage is not done before.
      return reply;
    });
  }
}

/** Scans one message as the settings say, and resolves once every reply is in. */
export async function scanMessage(
  ctx: MessageContext,
  client: ClamdClient,
  settings: ClamavSettings,
): Promise<ScanOutcome> {
  const scan = new MessageScan(ctx, client, settings);
  // Both views are asked for before the first await: the engine's one pass feeds them.
  const raw = settings.mode === 'parts' ? undefined : scan.scanRaw();
  if (settings.mode !== 'raw') scan.scanParts();
  await ctx.message.ended();
  await raw;
  return scan;
}
