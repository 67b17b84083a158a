/** The shapes these tests start servers in, on top of `@mef/test-servers`. */
import {
  selfSignedCert as certificate,
  type RbldnsdServer,
  startRbldnsd as rbldnsd,
} from '@mef/test-servers';

export { startClamd } from '@mef/test-servers';

/** rbldnsd on a loopback UDP port, with one ip4set zone listing the given addresses. */
export function startRbldnsd(
  zone: string,
  listed: readonly string[],
  /** Lines of a `generic` dataset (MX, A, TXT records) instead of a list. */
  generic?: readonly string[],
): Promise<RbldnsdServer> {
  const content = generic
    ? generic.join('\n')
    : `:127.0.0.2:Listed, see http://${zone}/?ip=$\n${listed.join('\n')}`;
  return rbldnsd([{ zone, type: generic ? 'generic' : 'ip4set', content }]);
}

/** A self-signed certificate for relay.test, for STARTTLS. */
export function selfSignedCert(): { key: string; cert: string; dir: string } {
  return certificate('relay.test');
}
