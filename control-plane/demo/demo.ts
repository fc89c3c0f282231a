// `npm run demo`: demo certificates (if missing), a loopback upstream that echoes the request,
// and `mtls-edge run` on examples/demo/config.yaml. Ctrl-C stops all of it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const CERTS = join(ROOT, 'certs');
const CONFIG = join(ROOT, 'examples', 'demo', 'config.yaml');
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

async function ensureCertificates(): Promise<void> {
  if (existsSync(join(CERTS, 'ca.pem'))) return;
  mkdirSync(CERTS, { recursive: true });
  const ca = await createRootCa({ commonName: 'mtls-edge demo CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['*.localhost.pomerium.io', 'localhost.pomerium.io'] });
  const client = await issueClientCertificate(ca, { commonName: 'yourUsername', email: 'yourUsername@localhost.pomerium.io' });
  const files: Array<[string, string, number]> = [
    ['ca.pem', ca.certPem, 0o644],
    ['ca-key.pem', ca.keyPem, 0o600],
    ['server.pem', server.chainPem, 0o644],
    ['server-key.pem', server.keyPem, 0o600],
    ['client.pem', client.certPem, 0o644],
    ['client-key.pem', client.keyPem, 0o600],
  ];
  for (const [name, text, mode] of files) writeFileSync(join(CERTS, name), text, { mode });
  console.log(`demo certificates written to ${CERTS}`);
}

await ensureCertificates();
const upstream = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ message: 'hello from the demo upstream', method: req.method, url: req.url, headers: req.headers }, null, 2) + '\n');
}).listen(8000, '127.0.0.1');

const edge = spawn(process.execPath, [CLI, 'run', '--config', CONFIG], { stdio: 'inherit' });
const r = '--resolve verify.localhost.pomerium.io:8443:127.0.0.1 --resolve public.localhost.pomerium.io:8443:127.0.0.1';
console.log(`
mtls-edge demo: once Envoy is up (http://127.0.0.1:9902/readyz answers 200), try
  curl ${r} --cacert certs/ca.pem --cert certs/client.pem --key certs/client-key.pem https://verify.localhost.pomerium.io:8443/
  curl ${r} --cacert certs/ca.pem https://verify.localhost.pomerium.io:8443/    # refused: no client certificate
  curl ${r} --cacert certs/ca.pem https://public.localhost.pomerium.io:8443/    # public route
`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => edge.kill(signal));
edge.on('exit', (code) => {
  upstream.close();
  process.exit(code ?? 0);
});
