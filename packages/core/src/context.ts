/**
 * Shared, typed state for one transaction. Plugins extend it by declaration merging so that
 * a later stage reads an earlier stage's results with types:
 *
 * ```ts
 * declare module '@mef/core' {
 *   interface TransactionState { rbl?: { listed: string[] } }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by declaration merging
export interface TransactionState {}

/** Whether mail comes in from the world (MX) or goes out from a customer (submission). */
export type Direction = 'inbound' | 'outbound';

/** What the host knows about the TLS layer of the connection. */
export interface TlsInfo {
  /** Negotiated protocol, for example `TLSv1.3`. */
  readonly protocol?: string;
  /** Negotiated cipher name. */
  readonly cipher?: string;
  /** Whether the client presented a certificate that verified. */
  readonly clientCertVerified?: boolean;
  /** Subject of the client certificate, when one was presented. */
  readonly clientCertSubject?: string;
}

/** The connection facts a host passes when a client connects. */
export interface ConnectionInfo {
  /** Connection id; the engine makes one when the host gives none. */
  readonly id?: string;
  /** Client IP address, IPv4 or IPv6 (IPv4-mapped IPv6 is normalised to IPv4). */
  readonly clientAddress: string;
  /** Client TCP port. */
  readonly clientPort?: number;
  /** Verified reverse DNS name of the client, when the host looked it up. */
  readonly reverseName?: string;
  /** Address the client connected to. */
  readonly localAddress?: string;
  /** Port the client connected to. */
  readonly localPort?: number;
  /** TLS facts, when the session is encrypted. */
  readonly tls?: TlsInfo;
  /** Authenticated user (SMTP AUTH), when there is one. */
  readonly user?: string;
  /** Inbound (MX) or outbound (submission). Default: inbound. */
  readonly direction?: Direction;
}

/** A MAIL FROM or RCPT TO address with its ESMTP parameters. */
export interface EnvelopeAddress {
  /** The address; the empty string is the null sender `<>`. */
  readonly address: string;
  /** ESMTP parameters (`SIZE`, `BODY`, `SMTPUTF8`, `NOTIFY`...), keys upper-case. */
  readonly params: Readonly<Record<string, string | true>>;
}

/** The read-only picture of a transaction that every stage sees. */
export interface TransactionContext {
  /** Transaction id, unique per engine run (also usable as a queue id). */
  readonly id: string;
  /** Connection id. */
  readonly connectionId: string;
  /** Client IP address. */
  readonly clientAddress: string;
  /** Client port, 0 when unknown. */
  readonly clientPort: number;
  /** Verified reverse name, when known. */
  readonly reverseName: string | undefined;
  /** HELO or EHLO argument, once given. */
  readonly helo: string | undefined;
  /** TLS facts, when encrypted. */
  readonly tls: TlsInfo | undefined;
  /** Authenticated user, when there is one. */
  readonly user: string | undefined;
  /** Inbound or outbound. */
  readonly direction: Direction;
  /** MAIL FROM, once given. */
  readonly mailFrom: EnvelopeAddress | undefined;
  /** Recipients accepted so far (a recipient rejected at RCPT is not listed). */
  readonly recipients: readonly EnvelopeAddress[];
  /** Shared state; see {@link TransactionState}. */
  readonly state: TransactionState;
  /** Names of stages skipped for this transaction, with the reason. */
  readonly skipped: ReadonlyMap<string, string>;
}
