/** The nodemailer client the tests send mail to a server under test with. */
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

/**
 * A nodemailer transport to 127.0.0.1:`port` that says HELO client.test and speaks plain SMTP
 * (no STARTTLS); `options` add to or override that (a `localAddress`, `requireTLS`, timeouts).
 */
export function smtpClient(
  port: number,
  options: SMTPTransport.Options = {},
): Transporter<SMTPTransport.SentMessageInfo, SMTPTransport.Options> {
  return createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'client.test',
    ...options,
  });
}
