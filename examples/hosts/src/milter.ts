// Postfix: `smtpd_milters = inet:127.0.0.1:11332` and `milter_protocol = 6` in main.cf.
import { createMilterServer } from '@mef/milter';
import { engineFromConfig, portFromEnv } from './config.js';

export async function startMilter(port = portFromEnv(11332)) {
  const { engine } = await engineFromConfig();
  const milter = createMilterServer({ engine });
  const bound = (await milter.listen({ host: '127.0.0.1', port })) as number;
  console.log(`milter on inet:127.0.0.1:${bound}`);
  return {
    port: bound,
    stop: async () => {
      await milter.close();
      await engine.stop();
    },
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const m = await startMilter();
  process.once('SIGINT', () => void m.stop());
}
