import { createEngine } from '@mef/core/hosts';
import { bannedAttachments } from '@mef/plugin-antivirus';
import { spamRules } from '@mef/plugin-spam';
import { useEngine } from '@mef/smtp-server';
import { SMTPServer } from 'smtp-server';

/** An SMTP server on 127.0.0.1:`port` that filters with MEF and hands accepted mail to `deliver`. */
export async function startServer(port: number, deliver: (message: Buffer) => void) {
  const engine = createEngine().use(spamRules()).use(bannedAttachments());
  await engine.start();
  const server = useEngine(new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'] }), engine, {
    keep: true,
    onAccept: async ({ output }) => deliver(Buffer.concat(await output().toArray())),
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.server.address() as { port: number }).port;
  const stop = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.stop();
  };
  return { port: bound, stop };
}
