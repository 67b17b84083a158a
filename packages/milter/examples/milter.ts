import { createEngine } from '@mef/core/hosts';
import { createMilterServer } from '@mef/milter';
import { bannedAttachments } from '@mef/plugin-antivirus';
import { spamRules } from '@mef/plugin-spam';

/** A milter for Postfix: the spam rules and the attachment policy on 127.0.0.1:`port`. */
export async function startMilter(port: number) {
  const engine = createEngine().use(spamRules()).use(bannedAttachments());
  const milter = createMilterServer({ engine });
  const bound = await milter.listen({ host: '127.0.0.1', port }); // starts the engine too
  return {
    port: bound as number,
    stop: async () => {
      await milter.close();
      await engine.stop();
    },
  };
}
