import type { Readable } from 'node:stream';
import type { Verdict } from '@mef/core';
import { type Connection, type Engine, type Transaction, toSmtpReply } from '@mef/core/hosts';
import type { SMTPServer, SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { sessionInfo } from './session-info.js';

export { sessionInfo } from './session-info.js';

/** An SMTP error as smtp-server sends it: `responseCode` and the text. */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

/** What `onAccept` receives for a message the engine accepted (or quarantined). */
export interface AcceptedMessage {
  readonly session: SMTPServerSession;
  readonly verdict: Verdict;
  /** The message with the verdict's header changes applied (needs `keep: true`). */
  output(): Readable;
}

/** Options of {@link useEngine}. */
export interface UseEngineOptions {
  /**
   * Keep each message (memory, then a temporary file) so that `onAccept` can read it with the
   * header changes applied. Default false: the message is only streamed through the engine.
   */
  readonly keep?: boolean;
  /**
   * Called for each accepted (or quarantined) message before the client gets its 250: deliver
   * or store it here. A throw (or rejection) tempfails the message with 451.
   */
  readonly onAccept?: (message: AcceptedMessage) => void | Promise<void>;
}

interface State {
  readonly conn: Connection;
  helo: string | undefined;
  tx: Transaction | undefined;
}

/**
 * Gives an `SMTPServer` the hooks that run an engine: `onConnect` (connect phase), `onMailFrom`
 * (HELO phase, since smtp-server has no HELO hook, then MAIL FROM), `onRcptTo` (per recipient),
 * `onData` (the message, streamed) and `onClose`. Your own `onAuth` (set it before this call)
 * still checks passwords; a success gives the engine the user (`connection.authenticate`). A verdict other than accept becomes an error
 * with `responseCode` and MEF's reply text. Start the engine before `server.listen()`.
 */
export function useEngine(server: SMTPServer, engine: Engine, options: UseEngineOptions = {}): SMTPServer {
  const states = new Map<string, State>();
  // smtp-server hides enhanced codes by default: MEF's go in the text. With its own turned on
  // (`hideENHANCEDSTATUSCODES: false`) it picks one per command, and ours would be doubled.
  const enhanced = server.options.hideENHANCEDSTATUSCODES !== false;

  const refusal = (v: Verdict): SmtpReplyError | null => {
    if (v.disposition === 'accept' || v.disposition === 'quarantine' || v.disposition === 'discard')
      return null;
    const r = toSmtpReply(v);
    const text = r.lines.join(' ');
    const err = new Error(enhanced ? `${r.enhanced} ${text}` : text) as SmtpReplyError;
    err.responseCode = v.disconnect && v.disposition === 'tempfail' ? 421 : r.code;
    return err;
  };
  const failed = (err: unknown): SmtpReplyError => {
    const e = new Error(
      `${enhanced ? '4.3.0 ' : ''}Temporary failure in the mail filter, please try again later`,
    ) as SmtpReplyError;
    e.responseCode = 451;
    e.cause = err;
    return e;
  };
  const reply = (work: Promise<Verdict | null>, callback: (err?: Error | null) => void): void => {
    work.then(
      (v) => callback(v ? refusal(v) : null),
      (err: unknown) => callback(failed(err)),
    );
  };

  server.onConnect = (session, callback) => {
    reply(
      (async () => {
        const conn = engine.connection(sessionInfo(session));
        states.set(session.id, { conn, helo: undefined, tx: undefined });
        return conn.connect();
      })(),
      callback,
    );
  };

  server.onMailFrom = (address: SMTPServerAddress, session, callback) => {
    reply(
      (async () => {
        const state = states.get(session.id);
        if (!state) throw new Error('MAIL FROM on a connection the engine did not see');
        if (state.helo !== session.hostNameAppearsAs) {
          // smtp-server has no HELO hook: the HELO phase runs at the first MAIL FROM after it.
          state.helo = session.hostNameAppearsAs;
          const hv = await state.conn.helo(state.helo);
          if (hv.disposition !== 'accept') return hv;
        }
        await state.tx?.dispose();
        state.tx = state.conn.transaction();
        return state.tx.mailFrom(address.address, address.args || {});
      })(),
      callback,
    );
  };

  server.onRcptTo = (address: SMTPServerAddress, session, callback) => {
    reply(
      (async () => {
        const tx = states.get(session.id)?.tx;
        if (!tx) throw new Error('RCPT TO before MAIL FROM');
        return tx.rcptTo(address.address, address.args || {});
      })(),
      callback,
    );
  };

  server.onData = (stream: SMTPServerDataStream, session, callback) => {
    reply(
      (async () => {
        const state = states.get(session.id);
        const tx = state?.tx;
        if (!state || !tx) {
          stream.resume();
          throw new Error('DATA before MAIL FROM');
        }
        const v = await tx.data(stream, options.keep ? { keep: true } : {});
        try {
          if (options.onAccept && (v.disposition === 'accept' || v.disposition === 'quarantine')) {
            await options.onAccept({ session, verdict: v, output: () => tx.output() });
          }
        } finally {
          state.tx = undefined;
          await tx.dispose();
        }
        return v;
      })(),
      callback,
    );
  };

  // Your own onAuth checks the password; a success records the user in the engine (outbound).
  const userAuth = server.onAuth.bind(server);
  server.onAuth = (auth, session, callback) => {
    userAuth(auth, session, (err, response) => {
      const conn = states.get(session.id)?.conn;
      if (!err && response?.user !== undefined && conn && auth.username) {
        try {
          conn.authenticate(auth.username);
        } catch (e) {
          return callback(failed(e));
        }
      }
      callback(err, response);
    });
  };

  const userClose = server.onClose.bind(server);
  server.onClose = (session, callback) => {
    const state = states.get(session.id);
    states.delete(session.id);
    void (async () => {
      await state?.tx?.dispose();
      await state?.conn.close();
    })();
    userClose(session, callback);
  };
  return server;
}
