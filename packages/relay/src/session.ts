import type { Socket } from 'node:net';
import type { Verdict } from '@mef/core';
import type { Connection, Engine, Transaction } from '@mef/core/hosts';
import type { SMTPServerDataStream } from 'smtp-server';
import type { RelayTxState } from './relay-stage.js';
import type { DomainSettings } from './schema.js';
import type { SmtpClient } from './smtp-client.js';

/** Where one recipient goes. */
export interface Route {
  /** One transaction goes to one route: the domain inbound, the next hop outbound. */
  key: string;
  destination: string;
  direction: 'inbound' | 'outbound';
  domain: string;
  settings: DomainSettings | undefined;
}

/** smtp-server's connection object, as far as the relay uses it. */
export interface ServerConnection {
  readonly id: string;
  readonly _socket: Socket;
  send(code: number, message: string): void;
  close(): void;
}

/** What the relay keeps per SMTP session. */
export interface SessionState {
  id: string;
  /** Client address, counted by the per-address limits (`''` for a trusted client). */
  address: string;
  /** The client connected from the trusted networks (outbound or submission networks). */
  trustedNetwork: boolean;
  /** The engine the session started on (a reload does not move open sessions). */
  engine: Engine;
  conn: Connection;
  connectVerdict: Verdict;
  heloDone: boolean;
  connection: ServerConnection | undefined;
  started: number;
  /** Last time a command line ended, or the relay finished answering one. */
  lastLine: number;
  /** The relay is working on a command (the client waits for us, not the other way). */
  busy: number;
  dataStream: SMTPServerDataStream | undefined;
  dataStarted: number;
  tx: Transaction | undefined;
  txState: RelayTxState | undefined;
  route: Route | undefined;
  client: SmtpClient | undefined;
  clientDestination: string | undefined;
  /** Pool key of the client: destination and TLS policy. */
  clientKey: string | undefined;
  mailSent: boolean;
  closed: boolean;
}

export function newSession(
  id: string,
  engine: Engine,
  conn: Connection,
  connectVerdict: Verdict,
): SessionState {
  const now = Date.now();
  return {
    id,
    address: '',
    trustedNetwork: false,
    engine,
    conn,
    connectVerdict,
    heloDone: false,
    connection: undefined,
    started: now,
    lastLine: now,
    busy: 0,
    dataStream: undefined,
    dataStarted: 0,
    tx: undefined,
    txState: undefined,
    route: undefined,
    client: undefined,
    clientDestination: undefined,
    clientKey: undefined,
    mailSent: false,
    closed: false,
  };
}

/** Counters a host can export. */
export interface RelayStats {
  connections: number;
  accepted: number;
  rejected: number;
  tempfailed: number;
  discarded: number;
  quarantined: number;
  destinationFailures: number;
  /** Sessions ended by a limit (session time, command time, data time). */
  timeouts: number;
}

export function newStats(): RelayStats {
  return {
    connections: 0,
    accepted: 0,
    rejected: 0,
    tempfailed: 0,
    discarded: 0,
    quarantined: 0,
    destinationFailures: 0,
    timeouts: 0,
  };
}
