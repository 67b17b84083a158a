import type { HeaderBlock } from '@mef/core';

/** A MIME leaf part as the classifier and the rules see it: no content, only its shape. */
export interface PartInfo {
  readonly contentType: string;
  readonly filename: string | undefined;
  readonly disposition: string | undefined;
}

/**
 * What the spam stages read from one message: the root header block, the bounded text the
 * engine extracted, and the shape of the leaf parts. Built from the core's views
 * (`headers()`, `text()`, `parts()`) in one pass; nothing here holds the whole message.
 */
export interface MessageFeatures {
  readonly headers: HeaderBlock;
  /** Decoded subject. */
  readonly subject: string;
  /** Plain text of the text parts and of the HTML rendered to text (bounded by the engine). */
  readonly text: string;
  /** Raw HTML of the text/html parts (bounded by the engine). */
  readonly html: string;
  readonly parts: readonly PartInfo[];
}
