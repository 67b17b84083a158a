import type { TestProject } from 'vitest/node';
import { findRbldnsd, startDns, type TestDns } from './support/dns.js';
import { findPostgres, type Postgres, startPostgres } from './support/postgres.js';

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

let postgres: Postgres | undefined;
let dns: TestDns | undefined;

export async function setup(project: TestProject): Promise<void> {
  const bin = findPostgres();
  // The database tests are the point of this suite: a missing server fails the run, never skips.
  if (!bin) {
    throw new Error(
      'PostgreSQL is not installed (apt-get install postgresql); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  const rbldnsd = findRbldnsd();
  if (!rbldnsd) {
    throw new Error(
      'rbldnsd is not installed (apt-get install rbldnsd); install the servers the tests use with: sudo bash scripts/install-servers.sh',
    );
  }
  postgres = await startPostgres(bin);
  dns = await startDns(rbldnsd, MX_LINES);
  project.provide('postgresUrl', postgres.url());
  project.provide('dnsServer', dns.server);
}

export async function teardown(): Promise<void> {
  await dns?.stop();
  await postgres?.stop();
}
