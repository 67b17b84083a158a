import * as core from '@mef/core';
import { describe, expect, it } from 'vitest';
import {
  addressDomain,
  isReservedIp,
  networkList,
  normalizeDomain,
  normalizeIp,
  receivedHops,
} from '../src/index.js';

describe('Received hops', () => {
  const received = [
    'from mx.example.net (mx.example.net [192.0.2.20]) by relay.example.org with ESMTPS id abc',
    'from inner (inner [10.1.2.3]) by mx.example.net with ESMTP',
    'from sender.example.com (sender.example.com [IPv6:2001:db8:bad::7]) by inner with SMTP',
    'from bot (unknown [198.51.100.77]) by sender.example.com',
    'from localhost (localhost [127.0.0.1]) by bot',
    'by example.com with LMTP',
  ];

  it('takes the public IPs of the from clauses, newest first', () => {
    expect(receivedHops(received, { max: 10 })).toEqual(['192.0.2.20', '2001:db8:bad::7', '198.51.100.77']);
  });

  it('skips trusted networks and the client, and stops at the hop limit', () => {
    expect(receivedHops(received, { trusted: networkList(['192.0.2.0/24']), max: 10 })).toEqual([
      '2001:db8:bad::7',
      '198.51.100.77',
    ]);
    expect(receivedHops(received, { exclude: ['192.0.2.20'], max: 1 })).toEqual(['2001:db8:bad::7']);
  });

  it('knows reserved ranges', () => {
    for (const ip of [
      '10.0.0.1',
      '127.0.0.1',
      '192.168.1.1',
      '172.16.0.1',
      '100.64.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
    ]) {
      expect(isReservedIp(ip)).toBe(true);
    }
    for (const ip of ['192.0.2.1', '8.8.8.8', '2001:db8::1']) expect(isReservedIp(ip)).toBe(false);
  });
});

describe('core helpers re-exported', () => {
  it('are the ones @mef/core exports (one implementation)', () => {
    expect(networkList).toBe(core.networkList);
    expect(normalizeIp).toBe(core.normalizeIp);
    expect(normalizeDomain).toBe(core.normalizeDomain);
    expect(addressDomain).toBe(core.addressDomain);
  });
});
