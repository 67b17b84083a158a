import {
  type PostgresServer,
  type RbldnsdServer,
  startAll,
  startPostgres,
  startRbldnsd,
} from '@mef/test-servers';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the maintenance database of the test PostgreSQL on 127.0.0.1. */
    postgresUrl: string;
    /** `127.0.0.1:PORT` of the test DNS server (zone `test` with MX records). */
    dnsServer: string;
  }
}

/** The MX records the test DNS server holds. */
export const MX_LINES = [
  'a 300 MX 10 mx1.relay.test',
  'a 300 MX 20 mx2.relay.test',
  'b 300 MX 10 mail.b.test',
];

let postgres: PostgresServer | undefined;
let dns: RbldnsdServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // The database tests are the point of this suite: a missing server fails the run with install advice.
  ({ postgres, dns } = await startAll({
    postgres: () => startPostgres(),
    // rbldnsd's generic dataset answers the MX records of zone `test`.
    dns: () => startRbldnsd([{ zone: 'test', type: 'generic', content: MX_LINES.join('\n') }]),
  }));
  project.provide('postgresUrl', postgres.url());
  project.provide('dnsServer', dns.server);
}

export async function teardown(): Promise<void> {
  await dns?.stop();
  await postgres?.stop();
}
