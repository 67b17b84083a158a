/**
 * Every reading of an ambiguous message. The splitter reads a message once; as it goes, each
 * header block is checked for ambiguity ({@link headerAmbiguity}) and each body for what the
 * splitter leaves closed (uuencode and yEnc blocks, base64 that another decoder reads
 * further; attached messages are opened by a splitter of their own as the pass goes). When something is found, the kept bytes are read again under the
 * policies where mail clients part ways, and every leaf that the splitter's reading did not
 * offer is offered to the stages as a part of its own (`partId` `<reading>:<path>`).
 * Each part offered carries a fingerprint (name, type, decoded bytes): a part of another reading
 * with the same one as a part offered before is not offered again, to any stage.
 * A well-formed message costs a few header scans, a copy of its bytes and references to its
 * decoded parts, kept until the end (hashed only if the message is read again).
 */
import { createHash, type Hash } from 'node:crypto';
import type { MessageView } from '../plugin.js';
import { type AmbiguityKind, headerAmbiguity } from './ambiguity.js';
import { mayEmbed } from './embedded.js';
import type { OnLimit } from './limits.js';
import { looksBase64, type ReadPolicy, readMessage } from './mime-reader.js';
import { READ_POLICIES } from './read-policies.js';

/** What the second look at a message found. */
export interface MimeReadingsReport {
  /** The ambiguity kinds found; empty for a well-formed message. */
  readonly kinds: readonly AmbiguityKind[];
  /**
   * What else made the message be read again: uuencode/yEnc blocks in a text body. (Attached
   * messages are opened by the splitter as the pass goes, to the depth limit.)
   */
  readonly containers: readonly 'embedded'[];
  /** The readings run beside the splitter's (empty when none was needed). */
  readonly readings: readonly string[];
  /** Parts offered from those readings. */
  readonly extraParts: number;
  /** True when the message was too large to be kept and read again. */
  readonly skipped: boolean;
}

/** A part of another reading, decoded and whole. */
export interface ExtraPart {
  readonly partId: string;
  readonly depth: number;
  readonly contentType: string;
  readonly charset: string | undefined;
  readonly filename: string | undefined;
  readonly disposition: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly headers: Buffer;
  readonly content: Buffer;
}

/** The splitter node fields the readings look at. */
export interface ReadingNode {
  multipart: string | false;
  encoding: string | false;
  headers: { build(): Buffer } | false;
  contentType: string | false;
  disposition: string | false;
  filename: string | false;
  messageNode?: boolean;
}

const EMPTY: MimeReadingsReport = Object.freeze({
  kinds: [],
  containers: [],
  readings: [],
  extraParts: 0,
  skipped: false,
});

/** Most bytes kept to read a message again once something was found in it. */
const MAX_KEPT = 32 * 1024 * 1024;
/**
 * Most bytes kept while nothing was found yet: past this, a message with nothing found so far
 * is not kept (holding large well-formed messages is what would cost the pass its speed), and
 * a finding after this point is reported with `skipped` instead of read again.
 */
const MAX_KEPT_UNFLAGGED = 8 * 1024 * 1024;

const reports = new WeakMap<object, Promise<MimeReadingsReport>>();

/**
 * What the readings of the message found: the ambiguity kinds (evidence in itself) and the
 * readings run. Resolves when the message has ended; for a view of no pass, an empty report.
 */
export function mimeReadings(view: MessageView): Promise<MimeReadingsReport> {
  return reports.get(view) ?? Promise.resolve(EMPTY);
}

/** What makes two parts the same: name, type and decoded bytes. */
const keyOf = (filename: string | false | undefined, type: string | false, digest: string) =>
  `${filename || ''}\0${(type || 'text/plain').toLowerCase()}\0${digest}`;

/**
 * A leaf of the splitter's reading as the readings follow it: its decoded chunks held (before
 * the first finding) or its running hash (from then on).
 */
export interface LeafWatch {
  readonly node: ReadingNode;
  chunks: Buffer[] | undefined;
  hash: Hash | undefined;
}

/** The readings of one message pass. */
export class Readings {
  /** True when some stage wants parts: only then are bytes kept and nodes looked at. */
  active = false;
  private done = false;
  private store: Buffer | undefined;
  private kept = 0;
  private overflow = false;
  private readonly kinds = new Set<AmbiguityKind>();
  private readonly containers = new Set<'embedded'>();
  /** The leaf whose first body chunk is looked at for base64 under another encoding name (the pass checks this before calling {@link body}). */
  sniffing: ReadingNode | undefined;
  /**
   * Leaves seen while nothing was found yet: their decoded chunks are held (no copy, no hash)
   * and fingerprinted only if the message is read again. They are bounded with the kept
   * bytes (decoding never makes a part larger), and dropped when those overflow.
   */
  private held: LeafWatch[] = [];
  /** Fingerprints of every part offered so far: a part of another reading with the same one is not offered again. */
  private readonly offered = new Set<string>();
  private resolveReport!: (r: MimeReadingsReport) => void;
  private readonly report = new Promise<MimeReadingsReport>((r) => {
    this.resolveReport = r;
  });

  /**
   * `onLimit` is told when a reading meets the depth or part limit, as the splitter's pass
   * tells it: what lies past the limit in another reading is not offered, so the limit symbol
   * must be given.
   */
  constructor(
    private readonly limits: { maxMessageBytes: number; maxDepth: number; maxParts: number },
    private readonly onLimit: OnLimit,
  ) {}

  /** Ties a view to this pass's report. */
  link<V extends MessageView>(view: V): V {
    reports.set(view, this.report);
    return view;
  }

  private get flagged(): boolean {
    return this.kinds.size > 0 || this.containers.size > 0;
  }

  /**
   * Keeps a chunk of the message, copied into one growing buffer: up to 8 MiB while nothing
   * was found, up to 32 MiB (or the size limit) once something was.
   */
  keep(chunk: Buffer): void {
    if (!this.active || this.overflow) return;
    const need = this.kept + chunk.length;
    if (need > Math.min(this.flagged ? MAX_KEPT : MAX_KEPT_UNFLAGGED, this.limits.maxMessageBytes)) {
      // Not read again: no fingerprint is needed either.
      this.overflow = true;
      this.store = undefined;
      this.dropHeld();
      return;
    }
    if (!this.store || need > this.store.length) {
      // The first chunk is kept in a buffer of its size (most messages come in one or a few
      // chunks and are never read again); from the second on, the buffer doubles.
      const grown = Buffer.allocUnsafe(Math.min(MAX_KEPT, Math.max(need, 2 * (this.store?.length ?? 0))));
      this.store?.copy(grown, 0, 0, this.kept);
      this.store = grown;
    }
    chunk.copy(this.store, this.kept);
    this.kept = need;
  }

  /**
   * Looks at a node a splitter opened. An attached message is opened by a splitter of its own
   * (`part-dispatcher.ts`), so it is no reason to read the message again.
   */
  node(node: ReadingNode): void {
    if (!this.active) return;
    this.sniffing = undefined;
    const head = node.headers ? node.headers.build() : undefined;
    if (head) for (const k of headerAmbiguity(head)) this.kinds.add(k);
    if (node.multipart || node.messageNode === true) return;
    const type = node.contentType || 'text/plain';
    const enc = node.encoding || '';
    const text = type.startsWith('text/');
    if (
      enc !== 'base64' &&
      enc !== 'quoted-printable' &&
      (node.filename || node.disposition === 'attachment' || !text)
    )
      this.sniffing = node;
  }

  /**
   * A leaf of a splitter's reading is decoded (some stage or the text view wants it). Every
   * such leaf gets a fingerprint, so another reading offers only what differs. Before the
   * first finding its chunks are only held (most messages are never read again); from the
   * first finding on it is hashed as it flows.
   */
  leafOpen(node: ReadingNode): LeafWatch | undefined {
    if (!this.active) return undefined;
    const watch: LeafWatch = { node, chunks: undefined, hash: undefined };
    if (this.overflow) return watch;
    if (this.flagged) watch.hash = createHash('sha256');
    else {
      watch.chunks = [];
      this.held.push(watch);
    }
    return watch;
  }

  /** Looks at the first undecoded body chunk of an attachment that does not say base64. */
  body(chunk: Buffer): void {
    this.sniffing = undefined;
    if (looksBase64(chunk)) this.kinds.add('encoding-mismatch');
  }

  /** Sees a leaf's decoded bytes: fingerprints it, and notices uuencode or yEnc inside text. */
  decoded(watch: LeafWatch, data: Buffer): void {
    if (watch.chunks) {
      if (this.flagged && !this.overflow) {
        // Found something while this leaf flows: it is hashed from here on.
        const hash = createHash('sha256');
        for (const c of watch.chunks) hash.update(c);
        watch.hash = hash;
        watch.chunks = undefined;
        this.held = this.held.filter((w) => w !== watch);
      } else watch.chunks.push(data);
    }
    watch.hash?.update(data);
    const { node } = watch;
    if (
      !this.containers.has('embedded') &&
      (node.contentType || 'text/plain').startsWith('text/') &&
      mayEmbed(data) &&
      /(?:^|\n)(?:begin [0-7]{3,4} \S|=ybegin )/.test(data.toString('latin1'))
    ) {
      this.containers.add('embedded');
    }
  }

  /** A leaf of a splitter's reading ended. */
  leafEnd(watch: LeafWatch): void {
    const { hash, node } = watch;
    if (!hash) return;
    watch.hash = undefined;
    this.offered.add(keyOf(node.filename, node.contentType, hash.digest('hex')));
  }

  private dropHeld(): void {
    for (const w of this.held) w.chunks = undefined;
    this.held = [];
  }

  /** Fingerprints the leaves held while nothing was found (the message is read again). */
  private fingerprintHeld(): void {
    for (const { node, chunks } of this.held) {
      const hash = createHash('sha256');
      for (const c of chunks ?? []) hash.update(c);
      this.offered.add(keyOf(node.filename, node.contentType, hash.digest('hex')));
    }
    this.dropHeld();
  }

  /** The message ended: reads it again when needed and offers the parts the splitter did not. */
  async finish(offer: (part: ExtraPart) => Promise<void>): Promise<void> {
    if (this.done) return;
    this.done = true;
    const kinds = [...this.kinds];
    const containers = [...this.containers];
    if (!this.active || (!kinds.length && !containers.length)) {
      this.store = undefined;
      this.dropHeld();
      this.resolveReport({ ...EMPTY, kinds, containers });
      return;
    }
    if (this.overflow) {
      this.resolveReport({ ...EMPTY, kinds, containers, skipped: true });
      return;
    }
    const message = (this.store ?? Buffer.alloc(0)).subarray(0, this.kept);
    this.store = undefined;
    this.fingerprintHeld();
    // Header ambiguity needs every policy; containers alone need only the lenient reading,
    // unless it meets an ambiguous header block inside an opened message.
    const structural = (set: Iterable<AmbiguityKind>) => [...set].some((k) => k !== 'encoding-mismatch');
    let policies = structural(kinds) ? READ_POLICIES : READ_POLICIES.slice(0, 1);
    const found = new Set(kinds);
    let extra = 0;
    try {
      for (let i = 0; i < policies.length; i++) {
        const policy = policies[i] as ReadPolicy;
        const read = readMessage(message, policy, {
          maxDepth: this.limits.maxDepth,
          maxParts: this.limits.maxParts,
          maxBytes: 4 * MAX_KEPT,
        });
        for (const k of read.kinds) found.add(k);
        if (read.limited.has('depth'))
          this.onLimit('depth', `MIME nesting deeper than ${this.limits.maxDepth} (reading ${policy.name})`);
        if (read.limited.has('parts'))
          this.onLimit('parts', `more than ${this.limits.maxParts} MIME parts (reading ${policy.name})`);
        if (policies.length === 1 && structural(read.kinds)) policies = READ_POLICIES;
        for (const leaf of read.leaves) {
          const key = keyOf(
            leaf.filename,
            leaf.contentType,
            createHash('sha256').update(leaf.content).digest('hex'),
          );
          if (this.offered.has(key)) continue;
          this.offered.add(key);
          extra++;
          await offer({ ...leaf, partId: `${policy.name}:${leaf.path}` });
        }
      }
    } finally {
      this.resolveReport({
        kinds: [...found],
        containers,
        readings: policies.map((p) => p.name),
        extraParts: extra,
        skipped: false,
      });
    }
  }

  /** The pass was aborted: nothing more is read. */
  cancel(): void {
    this.done = true;
    this.store = undefined;
    this.dropHeld();
    this.resolveReport({ ...EMPTY, kinds: [...this.kinds], containers: [...this.containers] });
  }
}
