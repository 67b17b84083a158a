import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BayesClassifier, chi2Q, messageDigest } from '../src/bayes/classifier.js';
import { MemoryStore } from '../src/bayes/memory-store.js';

const spamWords = ['viagra', 'cheap', 'offer', 'click', 'winner', 'cash', 'free', 'bonus'];
const hamWords = ['meeting', 'agenda', 'patch', 'review', 'thanks', 'lunch', 'draft', 'release'];

/** A deterministic message of `n` words drawn from `words` with a seed. */
function msg(words: string[], seed: number, extra: string[] = []): string[] {
  const out = [...extra, `id${seed}`];
  let x = seed;
  for (let i = 0; i < 6; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(words[x % words.length] as string);
  }
  return out;
}

async function trained(minLearns = 5): Promise<BayesClassifier> {
  const c = new BayesClassifier(new MemoryStore(), { minLearns });
  for (let i = 0; i < 20; i++) {
    await c.learn(msg(spamWords, i), 'spam');
    await c.learn(msg(hamWords, 1000 + i), 'ham');
  }
  return c;
}

describe('chi2Q', () => {
  it('matches known values of the chi-square upper tail', () => {
    expect(chi2Q(0, 2)).toBe(1);
    expect(chi2Q(2, 2)).toBeCloseTo(Math.exp(-1), 10);
    expect(chi2Q(10, 10)).toBeCloseTo(0.4405, 4);
    expect(chi2Q(1000, 4)).toBeLessThan(1e-100);
  });
});

describe('BayesClassifier', () => {
  it('stays silent until enough messages of each class are learned', async () => {
    const c = new BayesClassifier(new MemoryStore(), { minLearns: 3 });
    await c.learn(['a'], 'spam');
    await c.learn(['b'], 'spam');
    await c.learn(['c'], 'spam');
    await c.learn(['d'], 'ham');
    expect(await c.ready()).toBe(false);
    expect(await c.classify(['a'])).toBeUndefined();
  });

  it('classifies spam words as spam and ham words as ham', async () => {
    const c = await trained();
    const spam = await c.classify(msg(spamWords, 77));
    const ham = await c.classify(msg(hamWords, 78));
    expect(spam?.probability).toBeGreaterThan(0.95);
    expect(ham?.probability).toBeLessThan(0.05);
    expect(spam?.top.length).toBeGreaterThan(0);
  });

  it('gives 0.5 when no token is known', async () => {
    const c = await trained();
    expect((await c.classify(['never', 'seen']))?.probability).toBe(0.5);
  });

  it('counts a message learned twice once, and moves it when relearned with the other label', async () => {
    const store = new MemoryStore();
    const c = new BayesClassifier(store, { minLearns: 1 });
    expect(await c.learn(['x', 'y', 'x'], 'spam')).toBe('learned');
    expect(await c.learn(['y', 'x'], 'spam')).toBe('duplicate');
    expect(await store.totals()).toEqual({ spam: 1, ham: 0 });
    expect(store.countsSync(['x'])).toEqual([{ spam: 1, ham: 0 }]);
    expect(await c.learn(['x', 'y'], 'ham')).toBe('relearned');
    expect(await store.totals()).toEqual({ spam: 0, ham: 1 });
    expect(store.countsSync(['x', 'z'])).toEqual([
      { spam: 0, ham: 1 },
      { spam: 0, ham: 0 },
    ]);
    expect(await c.forget(['x', 'y'])).toBe(true);
    expect(await c.forget(['x', 'y'])).toBe(false);
    expect(store.size).toBe(0);
  });

  it('keys messages by a digest of their distinct tokens, in any order', () => {
    expect(messageDigest(['a', 'b', 'a'])).toBe(messageDigest(['b', 'a']));
    expect(messageDigest(['a'])).not.toBe(messageDigest(['a', 'b']));
  });
});

describe('MemoryStore file', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('saves and loads the same model, including what was learned', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mef-bayes-'));
    dirs.push(dir);
    const c = await trained();
    const file = join(dir, 'model.json');
    await (c.store as MemoryStore).save(file);
    const loaded = await MemoryStore.load(file);
    const c2 = new BayesClassifier(loaded, { minLearns: 5 });
    const probe = msg(spamWords, 5);
    expect((await c2.classify(probe))?.probability).toBe((await c.classify(probe))?.probability);
    expect(await c2.learn(msg(spamWords, 0), 'spam')).toBe('duplicate');
    expect(JSON.parse(await readFile(file, 'utf8')).format).toBe('mef-bayes/3');
  });

  it('gives an empty store for a missing file when asked, and a coded error otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mef-bayes-'));
    dirs.push(dir);
    expect((await MemoryStore.load(join(dir, 'none.json'), { missingOk: true })).size).toBe(0);
    await expect(MemoryStore.load(join(dir, 'none.json'))).rejects.toMatchObject({
      code: 'MEF_SPAM_BAYES_STORE',
    });
    await writeFile(join(dir, 'bad.json'), '{nope');
    await expect(MemoryStore.load(join(dir, 'bad.json'))).rejects.toMatchObject({
      code: 'MEF_SPAM_BAYES_STORE',
    });
    await writeFile(join(dir, 'old.json'), '{"format":"other"}');
    await expect(MemoryStore.load(join(dir, 'old.json'))).rejects.toMatchObject({
      code: 'MEF_SPAM_BAYES_STORE',
    });
  });
});
