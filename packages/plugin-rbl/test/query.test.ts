import { describe, expect, it } from 'vitest';
import { domainQueryName, ipQueryName } from '../src/index.js';

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
  });

  it('queries the IPv4 an IPv4-mapped IPv6 client maps, and nothing for what is no address', () => {
    expect(ipQueryName('::ffff:192.0.2.1', 'zen.test')).toBe('1.2.0.192.zen.test');
    expect(ipQueryName('999.1.1.1', 'zen.test')).toBeUndefined();
  });

  it('asks about normalised domains only', () => {
    expect(domainQueryName('Spammer.COM', 'dbl.test')).toBe('spammer.com.dbl.test');
    expect(domainQueryName('[192.0.2.1]', 'dbl.test')).toBeUndefined();
    expect(domainQueryName(`${'a.'.repeat(125)}com`, 'dbl.test')).toBeUndefined();
  });
});
