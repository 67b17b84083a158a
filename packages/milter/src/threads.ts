import type { Connection, ThreadEnvelope, Transaction } from '@mef/core/hosts';

/** What a pool thread's engine hears of the session: what `conn` and `tx` heard on the event loop. */
export function envelopeOf(conn: Connection, tx: Transaction): ThreadEnvelope {
  const { user, direction, ...info } = conn.info;
  const helo = conn.heloName;
  return {
    connection: { ...info, ...(user === undefined && direction ? { direction } : {}) },
    ...(helo !== undefined ? { helo } : {}),
    ...(user !== undefined ? { user } : {}),
    mailFrom: tx.mailFromAddress ?? '',
    rcptTo: tx.recipients,
  };
}
