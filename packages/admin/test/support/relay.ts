import { smtpClient } from '@mef/test-servers/smtp-client';

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

/** What {@link sendMail} sends besides GTUBE to one recipient. */
export interface MailOptions {
  /** The text body (default GTUBE). */
  body?: string;
  /** MAIL FROM and From: (default sender@spammer.example). */
  from?: string;
  /** Attachments, as nodemailer takes them. */
  attachments?: { filename: string; content: string }[];
}

/** A harmless text file named as a Windows program: the banned-attachment check acts on its name. */
export const EXE_ATTACHMENT = { filename: 'invoice.exe', content: 'not really a program\n' };

/** The SMTP client's answer to one message. */
export interface Sent {
  /** The final reply code: 250 when accepted. */
  code: number;
  /** The reply text (or the error). */
  response: string;
}

/** Sends GTUBE (or `options.body`) through the relay at `port` with nodemailer; resolves with the reply. */
export async function sendMail(
  port: number,
  to: string,
  messageId: string,
  options: MailOptions = {},
): Promise<Sent> {
  const transport = smtpClient(port, {
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    const info = await transport.sendMail({
      from: options.from ?? 'sender@spammer.example',
      to,
      subject: options.attachments ? 'Your invoice' : 'GTUBE through the relay',
      messageId,
      text: `${options.body ?? GTUBE}\n`,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    return { code: Number(/^\d{3}/.exec(info.response)?.[0] ?? 0), response: info.response };
  } catch (error) {
    const e = error as { responseCode?: number; response?: string; message: string };
    return { code: e.responseCode ?? 0, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** Polls `read` every 50 ms until `done` holds or `ms` pass; resolves with the last value read. */
export async function waitFor<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  ms: number,
): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
