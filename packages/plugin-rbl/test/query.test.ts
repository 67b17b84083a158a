import { describe, expect, it } from 'vitest';
import {
  addressDomain,
  domainQueryName,
  ipQueryName,
  ipv6Nibbles,
  normalizeDomain,
  normalizeIp,
} from '../src/index.js';

describe('query names', () => {
  it('reverses IPv4 octets under the zone (RFC 5782)', () => {
    expect(ipQueryName('192.0.2.1', 'zen.spamhaus.org')).toBe('1.2.0.192.zen.spamhaus.org');
    expect(ipQueryName('127.0.0.2', '.Zen.Test.')).toBe('2.0.0.127.zen.test');
  });

  it('writes IPv6 as 32 reversed nibbles', () => {
    expect(ipQueryName('2001:db8::1', 'zen.test')).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test',
    );
    // RFC 5782 section 2.4's example
    expect(ipQueryName('2001:db8:1:2:3:4:567:89ab', 'ugly.example.com')).toBe(
      'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com',
    );
    expect(ipv6Nibbles('::')).toBe('0'.repeat(32));
    expect(ipv6Nibbles('::1')).toBe(`${'0'.repeat(31)}1`);
    expect(ipv6Nibbles('fe80::')).toBe(`fe80${'0'.repeat(28)}`);
    expect(ipv6Nibbles('64:ff9b::192.0.2.1')).toBe('0064ff9b0000000000000000c0000201');
  });

  it('treats IPv4-mapped IPv6 as IPv4 and strips brackets and zone ids', () => {
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('::FFFF:7F00:2')).toBe('127.0.0.2');
    expect(normalizeIp('0:0:0:0:0:ffff:c000:0201')).toBe('192.0.2.1');
    expect(normalizeIp('::fffe:7f00:2')).toBe('::fffe:7f00:2');
    expect(ipQueryName('::ffff:192.0.2.1', 'zen.test')).toBe('1.2.0.192.zen.test');
    expect(normalizeIp('[2001:DB8::1]')).toBe('2001:db8::1');
    expect(normalizeIp('IPv6:2001:db8::1')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp('not-an-ip')).toBeUndefined();
    expect(ipQueryName('999.1.1.1', 'zen.test')).toBeUndefined();
  });

  it('normalises domains and refuses what is not a host name', () => {
    expect(normalizeDomain('Mail.Example.COM.')).toBe('mail.example.com');
    expect(normalizeDomain('bücher.de')).toBe('xn--bcher-kva.de');
    expect(normalizeDomain('[192.0.2.1]')).toBeUndefined();
    expect(normalizeDomain('192.0.2.1')).toBeUndefined();
    expect(normalizeDomain('a..b')).toBeUndefined();
    expect(normalizeDomain('-bad.com')).toBeUndefined();
    expect(normalizeDomain(`${'a'.repeat(64)}.com`)).toBeUndefined();
    expect(normalizeDomain('has space.com')).toBeUndefined();
    expect(domainQueryName('Spammer.COM', 'dbl.test')).toBe('spammer.com.dbl.test');
    expect(domainQueryName(`${'a.'.repeat(125)}com`, 'dbl.test')).toBeUndefined();
  });

  it('takes the domain of an address', () => {
    expect(addressDomain('user@Example.com')).toBe('example.com');
    expect(addressDomain('<a@b.example.org>')).toBe('b.example.org');
    expect(addressDomain('')).toBeUndefined();
    expect(addressDomain('postmaster')).toBeUndefined();
    expect(addressDomain('a@[192.0.2.1]')).toBeUndefined();
  });
});
