// A small OpenID Connect provider for tests: a discovery document and a JWKS on a free loopback port, every
// request counted, each answer replaceable (an error status, or no answer at all).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const WELL_KNOWN = '/.well-known/openid-configuration';

type Reply = { status: number; body: string } | 'hang';

/** A provider on a free loopback port that counts requests per path; `reply` decides each answer. */
export class TestIdp {
  readonly requests: string[] = [];
  document: Record<string, unknown> = {};
  keys: unknown[] = [];
  reply: (path: string, nth: number) => Reply = (path) => this.standard(path);
  private constructor(private readonly server: Server) {}

  static async start(keys: unknown[]): Promise<TestIdp> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const idp = new TestIdp(server);
    idp.document = {
      issuer: idp.url,
      authorization_endpoint: `${idp.url}/auth`,
      token_endpoint: `${idp.url}/token`,
      end_session_endpoint: `${idp.url}/logout`,
      jwks_uri: `${idp.url}/jwks`,
    };
    idp.keys = keys;
    server.on('request', (req, res) => {
      const path = req.url ?? '';
      idp.requests.push(path);
      const reply = idp.reply(path, idp.count(path));
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
    });
    return idp;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(path: string): number {
    return this.requests.filter((p) => p === path).length;
  }

  standard(path: string): Reply {
    if (path === WELL_KNOWN) return { status: 200, body: JSON.stringify(this.document) };
    if (path === '/jwks') return { status: 200, body: JSON.stringify({ keys: this.keys }) };
    return { status: 404, body: '{"error":"not found"}' };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
