/**
 * A diagnostic for the Haraka benches (`MEF_BENCH_HARAKA_NODELAY=1`): Haraka's `queue/smtp_forward`
 * writes the message to the next hop one line per `write()` on a socket without TCP_NODELAY, so
 * the final dot waits (Nagle's algorithm) for the next hop's delayed ACK of the first line:
 * about 40 ms a message on loopback (bench/results/hosts.md, session 11). This Haraka plugin
 * opens the sockets of Haraka's `tls_socket.connect` (smtp_forward's) with TCP_NODELAY; given to
 * every Haraka side alike, it shows the comparison without that wait. Not Haraka as it ships.
 */
export const noDelay = process.env.MEF_BENCH_HARAKA_NODELAY === '1';

/** The plugin's file (`nodelay.js` in the instance's `plugins/`, first in `config/plugins`). */
export const NODELAY_PLUGIN = `const tls_socket = require('./tls_socket');
if (!tls_socket.mefNoDelay) {
  const connect = tls_socket.connect;
  tls_socket.connect = (options = {}) => connect({ ...options, noDelay: true });
  tls_socket.mefNoDelay = true;
}
`;
