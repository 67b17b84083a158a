// Your own Node SMTP server: smtp-server with MEF's hooks; accepted mail goes to `deliver`.
import { useEngine } from '@mef/smtp-server';
import { SMTPServer } from 'smtp-server';
import { engineFromConfig, portFromEnv } from './config.js';

export async function startSmtpServer(
  port = portFromEnv(2525),
  deliver = (m: Buffer) => console.log(m.toString()),
) {
  const { engine } = await engineFromConfig();
  await engine.start();
  const server = useEngine(new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'] }), engine, {
    keep: true,
    onAccept: async ({ output }) => deliver(Buffer.concat(await output().toArray())),
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.server.address() as { port: number }).port;
  console.log(`smtp-server on 127.0.0.1:${bound}`);
  return {
    port: bound,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.stop();
    },
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const s = await startSmtpServer();
  process.once('SIGINT', () => void s.stop());
}
