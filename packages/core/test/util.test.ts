import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  addressDomain,
  capSource,
  checkBoolean,
  checkDnsServer,
  checkDnsServers,
  checkEnum,
  checkErrorPolicy,
  checkNumber,
  checkPluginName,
  checkString,
  checkStrings,
  clientAddress,
  decodeText,
  expandIpv6,
  inNetworks,
  networkList,
  normalizeDomain,
  normalizeIp,
} from '../src/index.js';

describe('option checkers', () => {
  it('return the value, undefined when absent, and throw a coded TypeError otherwise', () => {
    expect(checkNumber('t', 5, { min: 1, integer: true })).toBe(5);
    expect(checkNumber('t', undefined)).toBeUndefined();
    expect(() => checkNumber('t', 0.5, { integer: true })).toThrow(
      /Invalid option t: expected an integer >= 0, got 0.5/,
    );
    expect(() => checkNumber('t', 11, { max: 10 })).toThrow(/from 0 to 10/);
    expect(() => checkNumber('t', Number.NaN)).toThrow(TypeError);
    expect(() => checkNumber('t', '5')).toThrow(expect.objectContaining({ code: 'MEF_CORE_INVALID_OPTION' }));
    expect(checkEnum('a', 'tag', ['reject', 'tag'] as const)).toBe('tag');
    expect(() => checkEnum('a', 'drop', ['reject', 'tag'])).toThrow(/one of 'reject', 'tag', got "drop"/);
    expect(checkBoolean('b', false)).toBe(false);
    expect(() => checkBoolean('b', 'yes')).toThrow(/a boolean/);
    expect(checkString('s', 'x')).toBe('x');
    expect(() => checkString('s', '')).toThrow(/non-empty string/);
    expect(checkStrings('l', ['a'])).toEqual(['a']);
    expect(() => checkStrings('l', ['a', ''])).toThrow(/array of non-empty strings/);
    expect(checkErrorPolicy('onError', 'tempfail')).toBe('tempfail');
    expect(() => checkErrorPolicy('onError', 'drop')).toThrow(/'accept', 'tempfail', 'reject'/);
  });

  it('apply one plugin-name rule', () => {
    expect(checkPluginName(undefined, 'clamav')).toBe('clamav');
    expect(checkPluginName('spam-rules', 'x')).toBe('spam-rules');
    for (const bad of ['Spam', 'a.b', 'a_b', '-a', '', 7]) {
      expect(() => checkPluginName(bad, 'x')).toThrow(/Invalid option name/);
    }
  });
});

describe('addresses and networks', () => {
  it('normalise IP addresses, mapped IPv4 included', () => {
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('::FFFF:c000:201')).toBe('192.0.2.1');
    expect(normalizeIp('[IPv6:2001:DB8::1]')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp('example.com')).toBeUndefined();
    expect(clientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('unknown')).toBe('unknown');
    expect(expandIpv6('2001:db8::1')).toBe('20010db8000000000000000000000001');
  });

  it('parse CIDR lists strictly and match mapped addresses', () => {
    const list = networkList(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']);
    expect(inNetworks(list, '192.0.2.200')).toBe(true);
    expect(inNetworks(list, '::ffff:192.0.2.9')).toBe(true);
    expect(inNetworks(list, '2001:db8:1::5')).toBe(true);
    expect(inNetworks(list, '198.51.100.7')).toBe(true);
    expect(inNetworks(list, '198.51.100.8')).toBe(false);
    expect(inNetworks(list, 'not-an-ip')).toBe(false);
    for (const bad of ['10.0.0.0/', '10.0.0.0/33', '10.0.0.0/-1', '::/129', 'x/8', ' 10.0.0.1']) {
      expect(() => networkList([bad])).toThrow(/Not an address or CIDR/);
    }
  });

  it('find the domain of envelope addresses and header values', () => {
    expect(addressDomain('user@Example.COM')).toBe('example.com');
    expect(addressDomain('<user@example.com.>')).toBe('example.com');
    expect(addressDomain('"Smith, J" <j@mail.example.org>, other@x.test')).toBe('mail.example.org');
    expect(addressDomain('j@example.net (Jo)')).toBe('example.net');
    expect(addressDomain('<>')).toBeUndefined();
    expect(addressDomain('user@[192.0.2.1]')).toBeUndefined();
    expect(addressDomain('no address here')).toBeUndefined();
    expect(addressDomain(undefined)).toBeUndefined();
    expect(normalizeDomain('bücher.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain(`${'a'.repeat(64)}.test`)).toBeUndefined();
  });

  it('decode text in its charset', () => {
    expect(decodeText(Buffer.from([0xe9]), 'iso-8859-1')).toBe('é');
    expect(decodeText(Buffer.from('ok'), 'x-unknown')).toBe('ok');
  });
});

describe('checkDnsServer', () => {
  it('takes an IP address with an optional port and refuses names and bad ports', () => {
    expect(checkDnsServer('127.0.0.1:5353')).toBe('127.0.0.1:5353');
    expect(checkDnsServer('192.0.2.53')).toBe('192.0.2.53:53');
    expect(checkDnsServer('[::1]:53')).toBe('[::1]:53');
    expect(checkDnsServer('::1')).toBe('[::1]:53');
    for (const bad of ['dns.example', '127.0.0.1:0', '127.0.0.1:70000', 5353]) {
      expect(() => checkDnsServer(bad, 'dns')).toThrow(/Invalid option dns/);
    }
  });
});

describe('checkDnsServers and capSource', () => {
  it('checks every server of a non-empty list', () => {
    expect(checkDnsServers(['127.0.0.1:5353', '::1'])).toEqual(['127.0.0.1:5353', '[::1]:53']);
    expect(() => checkDnsServers([])).toThrow(/system resolver is never used/);
    expect(() => checkDnsServers(['127.0.0.1', 'ns.example'])).toThrow(/Invalid option servers\[1\]/);
  });

  it('passes bytes up to the cap, fails with the stage error past it, and still drains the source', async () => {
    const small = capSource(
      Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      6,
      () => new Error('big'),
    );
    const got: Buffer[] = [];
    for await (const c of small.stream) got.push(c as Buffer);
    expect(Buffer.concat(got).toString()).toBe('abcdef');
    await small.settle();

    let read = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 5; i++) {
          read++;
          yield Buffer.from('xxxx');
        }
      })(),
    );
    const big = capSource(source, 6, (m) => new Error(`over ${m}`));
    await expect(
      (async () => {
        for await (const _ of big.stream);
      })(),
    ).rejects.toThrow('over 6');
    expect(big.stream.over).toBe(true);
    await big.settle();
    expect(read).toBe(5);
  });
});
