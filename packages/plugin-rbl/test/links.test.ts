import { describe, expect, it } from 'vitest';
import { decodeEntities, findLinkHosts, linkTargets } from '../src/index.js';

describe('link extraction', () => {
  it('finds http, https, ftp and www links in text', () => {
    const text = `Visit http://Shop.Spammer.com/buy?x=1, or https://a.b.phisher.co.uk:8443/login.
Also www.example.org and ftp://files.example.net/x. Not this: mail me at bob@nolink.com.`;
    expect(findLinkHosts(text)).toEqual([
      'shop.spammer.com',
      'a.b.phisher.co.uk',
      'www.example.org',
      'files.example.net',
    ]);
  });

  it('finds links in HTML attributes, entity-encoded and protocol-relative', () => {
    const html = `<a href="http://one.com/a">x</a><img src='https://two.net/p.png'>
<a href="http&#58;&#x2f;&#47;three.org/">y</a> <form action="//four.biz/post"></form>
<a href=http://five.info/?a=1&amp;b=2>z</a>`;
    expect(findLinkHosts(html, { html: true })).toEqual([
      'one.com',
      'two.net',
      'three.org',
      'four.biz',
      'five.info',
    ]);
    // &amp; cannot hide a host, so it stays: only what can hide a scheme or host is decoded
    expect(decodeEntities('a&amp;b&#x41;&#66;&colon;')).toBe('a&amp;bAB:');
  });

  it('sees through user-info and obfuscated IPv4 hosts', () => {
    expect(findLinkHosts('http://paypal.com@evil.com/login')).toEqual(['evil.com']);
    expect(findLinkHosts('http://0xC6.51.100.77/')).toEqual(['198.51.100.77']);
    expect(findLinkHosts('http://3325256781/')).toEqual(['198.51.100.77']);
    expect(findLinkHosts('http://[2001:db8:bad::1]/x')).toEqual(['2001:db8:bad::1']);
  });

  it('turns IDN hosts into punycode', () => {
    expect(findLinkHosts('https://bücher.de/x')).toEqual(['xn--bcher-kva.de']);
  });

  it('reduces hosts to registrable domains with the public suffix list, IPs apart', () => {
    const t = linkTargets([
      'shop.spammer.com',
      'spammer.com',
      'a.b.phisher.co.uk',
      'x.y.spamfamily.net',
      '198.51.100.77',
      'localhost',
      'co.uk',
      'foo.example',
      '2001:db8:bad::1',
    ]);
    expect(t.domains).toEqual(['spammer.com', 'phisher.co.uk', 'spamfamily.net']);
    expect(t.ips).toEqual(['198.51.100.77', '2001:db8:bad::1']);
    expect(t.dropped).toBe(0);
  });

  it('bounds the number of targets', () => {
    const hosts = Array.from({ length: 100 }, (_, i) => `host${i}.com`);
    const t = linkTargets(hosts, 10);
    expect(t.domains.length).toBe(10);
    expect(t.dropped).toBe(90);
  });

  it('stays fast on a megabyte of adversarial text', () => {
    const cases = [
      `www.${'a'.repeat(1_000_000)}`,
      `http://${'a'.repeat(1_000_000)}`,
      `www.a${'-'.repeat(1_000_000)}`,
      `www.${'a.'.repeat(400_000)}`,
      '&#65;'.repeat(200_000),
      '&amp;'.repeat(200_000),
      'a&b'.repeat(300_000),
      'http://x.com/ '.repeat(70_000),
      'www.a '.repeat(150_000),
    ];
    for (const c of cases) {
      const t0 = performance.now();
      findLinkHosts(c, { html: true });
      // generous: CI machines are shared; the old regex-callback decoder took 250-500 ms here
      expect(performance.now() - t0, c.slice(0, 20)).toBeLessThan(1000);
    }
    expect(decodeEntities('&#0; &#x110000; &#1234567890; &colon &Colon; a&amp;b')).toBe(
      '&#0; &#x110000; &#1234567890; : : a&amp;b',
    );
  });
});
