/**
 * Example: an engine that scans every message with clamd and applies the attachment policy,
 * as a filtering relay would run it. `test/example.test.ts` runs this file against a real clamd.
 *
 *   import { createAntivirusEngine } from './antivirus-engine.js';
 *   const engine = createAntivirusEngine({ clamd: ['/run/clamav/clamd.ctl'] });
 *   await engine.start();
 *   const verdict = await engine.scan(messageStream, { clientAddress, mailFrom, recipients });
 */
import { createEngine, type Engine } from '@mef/core/hosts';
import { bannedAttachments, clamav } from '@mef/plugin-antivirus';

export function createAntivirusEngine(options: { clamd: string[]; onError?: 'tempfail' | 'accept' }): Engine {
  return createEngine()
    .use(
      clamav({
        hosts: options.clamd, // failover in order
        mode: 'both', // the raw message and each decoded part, from one pass
        maxSize: 24 * 1024 * 1024, // below clamd's StreamMaxLength (25M by default)
        oversize: 'skip', // CLAMAV_SKIPPED_SIZE, mail passes unscanned
        action: 'reject', // 554 5.7.1 Virus found: <name>
        heuristicAction: 'tag', // CLAMAV_HEURISTIC adds its score only
        skipAuthenticated: false,
        onError: options.onError ?? 'tempfail', // clamd down: 451, the sender retries
      }),
    )
    .use(
      bannedAttachments({
        allow: { fileNames: [/^signed-installer-\d+\.msi$/] },
        encryptedAction: 'tag',
        archives: { maxDepth: 3, maxMembers: 500 },
      }),
    );
}
