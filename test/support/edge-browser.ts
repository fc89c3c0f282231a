import { httpsGet, type ClientResponse } from './https-client.js';

/**
 * A browser's part of a sign-in through the edge, without a browser: the edge's cookies kept per host (they are
 * host-only unless cookie_domain is set), HTML asked for, no redirect followed. The IdP's own hops go through
 * oidc-idp-rp.ts's jar.
 */
export class EdgeBrowser {
  readonly cookies = new Map<string, Map<string, string>>();

  constructor(
    private readonly port: number,
    private readonly ca: string,
    private readonly clientCertificate?: { cert: string; key: string },
  ) {}

  /** GET `https://host:port/path` with the host's cookies; Set-Cookie answers are kept. */
  async get(host: string, path: string, headers: Record<string, string> = {}): Promise<ClientResponse> {
    const cookie = [...this.cookiesFor(host)].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await httpsGet({
      port: this.port,
      servername: host,
      host: `${host}:${this.port}`,
      path,
      ca: this.ca,
      ...(this.clientCertificate ?? {}),
      headers: { accept: 'text/html,application/xhtml+xml', ...(cookie ? { cookie } : {}), ...headers },
      includeHeaders: true,
    });
    this.take(host, res);
    return res;
  }

  /** GET an absolute https URL of the edge (a Location the edge or the IdP gave). */
  getUrl(url: URL, headers: Record<string, string> = {}): Promise<ClientResponse> {
    return this.get(url.hostname, `${url.pathname}${url.search}`, headers);
  }

  cookie(host: string, name: string): string | undefined {
    return this.cookiesFor(host).get(name);
  }

  /** The host's own cookies and those set for a domain it is in (`Domain=example.com`, kept under `.example.com`). */
  private cookiesFor(host: string): Map<string, string> {
    const all = new Map<string, string>();
    for (const [key, jar] of this.cookies)
      if (key === host || (key.startsWith('.') && (host.endsWith(key) || host === key.slice(1))))
        for (const [k, v] of jar) all.set(k, v);
    return all;
  }

  setCookie(host: string, name: string, value: string): void {
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(host, jar);
  }

  private take(host: string, res: ClientResponse): void {
    const raw = res.headers?.['set-cookie'];
    const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of lines) {
      const domain = /;\s*domain=\.?([^;]+)/i.exec(line)?.[1]?.toLowerCase();
      const key = domain ? `.${domain}` : host;
      const jar = this.cookies.get(key) ?? new Map<string, string>();
      this.cookies.set(key, jar);
      const pair = line.split(';', 1)[0] ?? '';
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (value === '' || value === 'deleted' || expired) jar.delete(name);
      else jar.set(name, value);
    }
  }
}
