/**
 * SpamAssassin's ReplaceTags plugin: `<A>`, `<inter W2>`, `<post P3>` and `<pre X>` in the
 * patterns of the rules named by `replace_rules`, replaced the way the plugin does it (up to
 * five passes, since a tag's value may hold tags).
 */
import type { SaConfig } from './cf-parser.js';

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** The pattern with its tags replaced. */
export function replaceTags(pattern: string, config: SaConfig): string {
  const start = escapeRe(config.replaceStart);
  const end = escapeRe(config.replaceEnd);
  const tag = (kind: string, name: string) => config.replaceTags.get(`${kind} ${name}`);
  let re = pattern;
  for (let pass = 0; pass <= 5; pass++) {
    let again = false;
    let preName: string | undefined;
    let postName: string | undefined;
    let interName: string | undefined;
    re = re.replace(new RegExp(`${start}pre (.+?)${end}`), (_, n: string) => {
      preName = n;
      return '';
    });
    re = re.replace(new RegExp(`${start}post (.+?)${end}`), (_, n: string) => {
      postName = n;
      return '';
    });
    re = re.replace(new RegExp(`${start}inter (.+?)${end}`), (_, n: string) => {
      interName = n;
      return '';
    });
    const pieces = re.split(/(<[^<>]+>)/);
    while (pieces.length && pieces[pieces.length - 1] === '') pieces.pop();
    const pre = preName ? tag('pre', preName) : undefined;
    const post = postName ? tag('post', postName) : undefined;
    const inter = interName ? tag('inter', interName) : undefined;
    const tagRe = new RegExp(`(${start}.+?${end})`);
    const tagReG = new RegExp(`(${start}.+?${end})`, 'g');
    for (let i = 0; i < pieces.length; i++) {
      let piece = pieces[i] as string;
      if (pre) piece = piece.replace(tagRe, (m) => pre + m);
      if (post) piece = piece.replace(tagReG, (m) => m + post);
      if (inter && piece === '') piece = inter;
      const m = new RegExp(`${start}(.+?)${end}`).exec(piece);
      if (m) {
        const value = tag('tag', m[1] as string);
        if (value) {
          piece = piece.split(`${config.replaceStart}${m[1]}${config.replaceEnd}`).join(value);
          if (/<[^>]+>/.test(value)) again = true;
        }
      }
      pieces[i] = piece;
    }
    re = pieces.join('');
    if (!again) break;
  }
  return re;
}
