import type { Server } from 'node:http';
import express from 'express';

/** The parts of x-forwarded-client-cert Envoy sets (By, Hash, Subject, URI, DNS, Cert, Chain). */
export function parseForwardedClientCert(header: string | undefined): Array<Record<string, string>> {
  if (!header) return [];
  return header.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((element) => {
    const fields: Record<string, string> = {};
    for (const pair of element.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) fields[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim().replace(/^"|"$/g, ''));
    }
    return fields;
  });
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A demo upstream in the spirit of Pomerium's verify app: it shows who the edge says the client is
 * (the client-certificate details the config forwards) and every header it received. JSON on request.
 */
export function createVerifyApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res) => {
    const certificate = parseForwardedClientCert(req.get('x-forwarded-client-cert'))[0] ?? {};
    const identity = {
      email: req.get('x-client-email') ?? null,
      fingerprint: req.get('x-client-fingerprint') ?? certificate['Hash'] ?? null,
      subject: certificate['Subject'] ?? null,
      dns: certificate['DNS'] ?? null,
      uri: certificate['URI'] ?? null,
    };
    const body = { identity, method: req.method, path: req.originalUrl, headers: req.headers };
    if (req.accepts(['html', 'json']) === 'json') return void res.json(body);
    const rows = (o: Record<string, unknown>) =>
      Object.entries(o)
        .map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v === null || v === undefined ? '—' : String(v))}</td></tr>`)
        .join('');
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mtls-edge verify</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:3rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem;vertical-align:top}td{font-family:monospace;word-break:break-all}</style></head>
<body><h1>${identity.email || identity.subject ? `Hello, ${escape(String(identity.email ?? identity.subject))}` : 'No client identity'}</h1>
<h2>Client certificate (as the edge verified it)</h2><table>${rows(identity)}</table>
<h2>Request headers</h2><table>${rows(req.headers as Record<string, unknown>)}</table></body></html>`);
  });
  return app;
}

export function startVerifyApp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createVerifyApp().listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
