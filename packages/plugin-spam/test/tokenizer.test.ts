import { describe, expect, it } from 'vitest';
import { tokenize } from '../src/bayes/tokenizer.js';
import { features, goodHeaders } from './support/features.js';

describe('tokenize', () => {
  it('reads subject words, body words and adjacent pairs', () => {
    const t = tokenize(features(goodHeaders, { text: 'Cheap watches today' }));
    expect(t).toContain('s:lunch');
    expect(t).toContain('cheap');
    expect(t).toContain('cheap~1~watches');
    expect(t).not.toContain('cheap~2~today');
  });

  it('widens the sparse bigram window on request', () => {
    const t = tokenize(features(goodHeaders, { text: 'Cheap watches today' }), { window: 3 });
    expect(t).toContain('cheap~2~today');
  });

  it('skips Date, Message-ID and other filters marks, and reads Received only for its relay hosts', () => {
    const f = features(
      `${goodHeaders}\nReceived: from relay.corpus.example by mx\nX-Spam-Status: Yes, score=20\nDelivered-To: someone@corpus.example`,
      { text: 'hello' },
    );
    const t = tokenize(f);
    expect(t.some((x) => x.includes('received'))).toBe(false);
    expect(t.filter((x) => x.includes('relay.corpus'))).toEqual(['rcvd:relay.corpus.example']);
    expect(t.some((x) => x.includes('x-spam') || x.includes('message-id') || x === 'h:date')).toBe(false);
    expect(t).toContain('h:from');
  });

  it('turns URLs into host, base domain and TLD tokens, and IP links into one token', () => {
    const t = tokenize(
      features(goodHeaders, { text: 'see http://www.shop.example.biz/x?a=1 and http://10.1.2.3/' }),
    );
    expect(t).toEqual(
      expect.arrayContaining(['url:www.shop.example.biz', 'url:example.biz', 'url:tld:biz', 'url:ip']),
    );
    expect(t).toContain('url-path:query');
  });

  it('reads HTML tags and attributes and the MIME structure', () => {
    const t = tokenize(
      features(goodHeaders, {
        html: '<font color="red">Buy</font>',
        text: 'Buy',
        parts: [{ contentType: 'text/html' }, { contentType: 'application/zip', filename: 'a.ZIP' }],
      }),
    );
    expect(t).toEqual(
      expect.arrayContaining(['tag:font', 'attr:font:color', 'part:text/html', 'attach:zip']),
    );
  });

  it('replaces very long words by a length class and bounds the words read', () => {
    const long = 'x'.repeat(60);
    const t = tokenize(features(goodHeaders, { text: `${long} ${'word '.repeat(100)}` }), { maxWords: 10 });
    expect(t).toContain('long:xxxx:7');
    expect(t.filter((x) => x === 'word').length).toBe(9);
  });
});

describe('tokenIds', () => {
  it('gives one id per token, in the same order, equal to tokenId for non-pair tokens', async () => {
    const { tokenId, tokenIds } = await import('../src/bayes/tokenizer.js');
    const f = features(goodHeaders, { text: 'Cheap watches today, cheap watches' });
    const strings = tokenize(f);
    const ids = tokenIds(f);
    expect(ids.length).toBe(strings.length);
    strings.forEach((s, i) => {
      if (!s.includes('~')) expect(ids[i]).toBe(tokenId(s));
    });
    // The same pair gets the same id wherever it occurs; different pairs differ.
    const pairAt = (a: string, b: string) => ids[strings.indexOf(`${a}~1~${b}`)];
    expect(pairAt('cheap', 'watches')).toBe(ids[strings.lastIndexOf('cheap~1~watches')]);
    expect(pairAt('cheap', 'watches')).not.toBe(pairAt('watches', 'today'));
    expect(new Set(ids.filter((x) => Number.isSafeInteger(x))).size).toBe(new Set(strings).size);
  });
});

describe('tokenize: header, URL and HTML attribute tokens', () => {
  it('reads Received relay hosts and networks, URL path words, registrable domains and public suffixes', () => {
    const t = tokenize(
      features(
        `${goodHeaders}\nReceived: from mail.shop.example.co.uk (mail.shop.example.co.uk [192.0.2.7]) by mx.example.org with ESMTP`,
        { text: 'see http://www.deals.example.co.uk/cheap-watches/offer.html?id=7' },
      ),
    );
    expect(t).toEqual(
      expect.arrayContaining([
        'rcvd:mail.shop.example.co.uk',
        'rcvd:example.co.uk',
        'rcvd:tld:co.uk',
        'rcvd:mx.example.org',
        'rcvd-ip:192.0',
        'rcvd-with:esmtp',
        'url:example.co.uk',
        'url:tld:co.uk',
        'url-w:cheap',
        'url-w:watches',
        'url-w:offer',
        'url-w:html',
      ]),
    );
  });

  it('reads image alt and title text, the image count, the mailer and the shapes of From and the boundary', () => {
    const t = tokenize(
      features(
        `${goodHeaders.replace('Content-Type: text/plain; charset=utf-8', 'Content-Type: multipart/alternative; boundary="----=_NextPart_000_0012"')}\nX-Mailer: Microsoft Outlook Express 6.00`,
        { html: '<img src="a.gif" alt="Cheap Rolex"><img src=b.gif title="Click">', text: '' },
      ),
    );
    expect(t).toEqual(
      expect.arrayContaining([
        'alt:cheap',
        'alt:rolex',
        'alt:click',
        'imgs:2',
        'x-mailer-full:microsoft outlook express 6.00',
        'from-shape:named',
        'ct-boundary:----=_nxxtpxrt_999_9999',
      ]),
    );
    expect(tokenize(features('From: a@example.com\nSubject: x', { text: 'hi' }))).toEqual(
      expect.arrayContaining(['from-shape:bare', 'x-mailer:none']),
    );
  });
});

describe('tokenize: mailing-list headers', () => {
  const listed = `${goodHeaders}
List-Id: Irish Linux Users' Group <ilug.linux.ie>
List-Unsubscribe: <mailto:ilug-request@linux.ie?subject=unsubscribe>
X-BeenThere: ilug@linux.ie
X-Mailman-Version: 2.0.10
Precedence: bulk
Errors-To: ilug-admin@linux.ie
Sender: ilug-admin@linux.ie`;

  it('counts the headers a list adds by name, and reads Sender, with listHeaders: true', () => {
    const t = tokenize(features(listed, { text: 'hello' }), { listHeaders: true });
    expect(t).toEqual(
      expect.arrayContaining([
        'h:list-id',
        'h:list-unsubscribe',
        'h:x-beenthere',
        'h:precedence',
        'sender:ilug-admin',
      ]),
    );
  });

  it("leaves them out by default, keeping the sender's own headers", () => {
    const t = tokenize(features(listed, { text: 'hello' }));
    expect(t.filter((x) => /list|beenthere|mailman|precedence|errors-to|^sender/.test(x))).toEqual([]);
    expect(t).toEqual(expect.arrayContaining(['h:from', 'h:subject', 'from:alice', 'hello']));
  });
});
