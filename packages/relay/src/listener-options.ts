import { readFileSync } from 'node:fs';
import type { BlockList } from 'node:net';
import type { SMTPServerOptions } from 'smtp-server';
import type { NextHop } from './next-hop.js';
import { replyError } from './replies.js';
import type { RelaySection } from './schema.js';
import type { UsersFile } from './users.js';

/** A submission listener: AUTH over TLS against the users file, or the client networks, else 530. */
export interface SubmissionMode {
  /** Implicit TLS (465); else STARTTLS (587). */
  secure: boolean;
  users: UsersFile | undefined;
  networks: BlockList;
  /** The next hop: a smarthost, or each recipient domain's MX. */
  next: { smarthost: string } | { mx: NextHop };
}

export function readTls(r: RelaySection): { key: Buffer; cert: Buffer } | undefined {
  return r.tls ? { key: readFileSync(r.tls.key), cert: readFileSync(r.tls.cert) } : undefined;
}

/** The smtp-server options that follow the relay's limits (applied again on reload). */
export function limitOptions(r: RelaySection): Partial<SMTPServerOptions> {
  return {
    size: r.maxMessageBytes,
    maxClients: r.limits.connections,
    socketTimeout: r.limits.commandTime,
    // Our smtp-server patch (patches/smtp-server@3.21.6.patch): the early-talker wait, fixed
    // at 100 ms upstream, is `greetingDelay`; 0 by default, like Postfix's smtpd.
    ...({ greetingDelay: r.limits.greetingDelay } as object),
  };
}

/** The smtp-server options of a submission listener: AUTH PLAIN and LOGIN, only over TLS. */
export function submissionOptions(sub: SubmissionMode): Partial<SMTPServerOptions> {
  return {
    secure: sub.secure,
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH only over TLS: smtp-server hides and refuses it before STARTTLS.
    allowInsecureAuth: false,
    disabledCommands: sub.users ? [] : ['AUTH'],
    onAuth: (auth, session, cb) => {
      const users = sub.users;
      if (!users || !session.secure)
        return cb(replyError(538, '5.7.11', 'Encryption required for authentication'));
      users.verify(auth.username ?? '', auth.password ?? '').then(
        (ok) =>
          ok
            ? cb(null, { user: auth.username })
            : cb(replyError(535, '5.7.8', 'Authentication credentials invalid')),
        () => cb(replyError(454, '4.7.0', 'Temporary authentication failure')),
      );
    },
  };
}
