/** A browser-like HTTP client for the tests: keeps cookies, never follows redirects. */
export class Client {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(new URL(path, this.base), {
      method,
      headers,
      redirect: 'manual',
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair?.indexOf('=') ?? -1;
      if (!pair || i < 0) continue;
      const value = pair.slice(i + 1);
      if (value) this.cookies.set(pair.slice(0, i), value);
      else this.cookies.delete(pair.slice(0, i));
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.request('POST', path, form);
  }

  /** The CSRF token of the first form on the page at `path`. */
  async csrf(path: string): Promise<string> {
    const text = await (await this.get(path)).text();
    const m = /name="_csrf" value="([^"]*)"/.exec(text);
    if (!m?.[1]) throw new Error(`no CSRF field on ${path}`);
    return m[1];
  }

  /** Logs in through the form; resolves with the POST's response. */
  async login(username: string, password: string): Promise<Response> {
    const _csrf = await this.csrf('/login');
    return this.post('/login', { _csrf, username, password });
  }
}
