import type { ConnectionInfo } from '@mef/core';
import type { SMTPServerSession } from 'smtp-server';

/**
 * What the engine needs to know of an smtp-server session when it connects: the connection id,
 * both ends' addresses and ports, and the client's verified reverse name (smtp-server writes an
 * unresolved client as `[address]`, which is not a name). The direction is the host's choice:
 * add it to the result.
 */
export function sessionInfo(session: SMTPServerSession): ConnectionInfo {
  return {
    id: session.id,
    clientAddress: session.remoteAddress,
    clientPort: session.remotePort,
    ...(session.clientHostname && !session.clientHostname.startsWith('[')
      ? { reverseName: session.clientHostname }
      : {}),
    localAddress: session.localAddress,
    localPort: session.localPort,
  };
}
