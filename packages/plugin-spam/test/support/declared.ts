import type { Plugin, Verdict } from '@mef/core';
import { createEngine } from '@mef/core/hosts';

/** Runs one message through a full transaction whose MAIL FROM declares a SIZE. */
export async function scanWithDeclaredSize(plugin: Plugin, message: Buffer, size: number): Promise<Verdict> {
  const engine = createEngine().use(plugin);
  await engine.start();
  const conn = engine.connection({ clientAddress: '192.0.2.10' });
  try {
    await conn.connect();
    const tx = conn.transaction();
    await tx.mailFrom('sender@example.test', { SIZE: String(size) });
    await tx.rcptTo('rcpt@example.test');
    const v = await tx.data(message);
    await tx.dispose();
    return v;
  } finally {
    await conn.close();
    await engine.stop();
  }
}
