/**
 * The real servers the tests and benchmarks talk to, each started on a free loopback port with
 * its own configuration in a folder of its own, each with `{ host, port, stop() }`. A server that
 * is not installed fails with install advice ({@link MissingServerError}), never a skip.
 *
 * Test material that is not a server lives in subpaths: `@mef/test-servers/corpus` (the
 * SpamAssassin public corpus), `@mef/test-servers/zip` (a zip writer) and
 * `@mef/test-servers/auth-world` (the SPF/DKIM/DMARC zones named serves).
 */
export {
  type ClamdOptions,
  type ClamdServer,
  clamdscanPath,
  EICAR,
  EICAR_SIGNATURE,
  startClamd,
  TEST_FILE_SIGNATURE,
  TESTFILES_DIR,
} from './clamd.js';
export { type ClientResult, smtpSource, swaks, swaksAttach, swaksAuth, swaksTo } from './clients.js';
export {
  type CommandOptions,
  type CommandProcess,
  type CommandResult,
  runCommand,
  startCommand,
} from './command.js';
export { type HarakaOptions, type HarakaServer, startHaraka } from './haraka.js';
export { type NamedServer, startNamed, txt, type Zone } from './named.js';
export { type PostfixMilter, type PostfixOptions, type PostfixServer, startPostfix } from './postfix.js';
export { createDatabase, type PostgresServer, startPostgres } from './postgres.js';
export { answers, dnsAnswers, exchange, greets } from './probes.js';
export {
  eventually,
  freePort,
  freeTcpUdpPort,
  freeUdpPort,
  INSTALL_ADVICE,
  MissingServerError,
  type RunningServer,
  requireBinary,
  which,
} from './process.js';
export { type RbldnsdServer, startRbldnsd, type ZoneFile } from './rbldnsd.js';
export { type RedisServer, startRedis } from './redis.js';
export { type RspamdOptions, type RspamdServer, startRspamd } from './rspamd.js';
export { type SinkOptions, type SinkServer, smtpSinkPath, startSink } from './smtp-sink.js';
export { type SpamdOptions, type SpamdServer, startSpamd } from './spamd.js';
export { type Started, type StopList, startAll, stopList } from './start-all.js';
export { selfSignedCert, type TestCertificate } from './tls.js';
