import { authenticate, dkimVerify } from 'mailauth';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { arcSealed, GOOD_IP, keys, message, signed } from '../src/auth-world.js';

// The keys of the test domains, answered without DNS: this file checks the signing helpers only.
const records: Record<string, string> = {
  's1._domainkey.pass.test': keys.pass.record,
  'arc._domainkey.forwarder.test': keys.forwarder.record,
};
const resolver = async (name: string, type: string) => {
  const record = type === 'TXT' ? records[name] : undefined;
  if (record === undefined) throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' });
  return [[record]];
};

// mailauth reads the clock for the `t=` tag. A clock that moves a whole second at each reading
// makes the half-second case (the `t=` signed and the `t=` written fall on two sides of a
// second) happen every time instead of about twice in 1,000 signatures.
function jumpingClock() {
  let now = Date.UTC(2026, 10, 30, 5, 0, 0);
  vi.spyOn(Date, 'now').mockImplementation(() => {
    now += 1000;
    return now;
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the signing helpers of the auth world', () => {
  it('write the t= they signed, so a signature verifies whatever the clock does', async () => {
    jumpingClock();
    const msg = await signed('pass.test', message('alice@pass.test'));
    const v = await dkimVerify(Buffer.from(msg), { resolver, sender: 'alice@pass.test' });
    expect(v.results.map((r) => r.status.result)).toEqual(['pass']);
  });

  it('seal an ARC set that verifies whatever the clock does', async () => {
    jumpingClock();
    const msg = await arcSealed(message('alice@pass.test'));
    const r = await authenticate(Buffer.from(msg), {
      resolver,
      ip: GOOD_IP,
      helo: 'client.example.test',
      sender: 'alice@pass.test',
      mta: 'mx.mef.test',
    });
    expect(r.arc ? r.arc.status.result : r.arc).toBe('pass');
  });
});
