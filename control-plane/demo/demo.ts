// `npm run demo`: the demo certificates (made with `mtls-edge certs` if missing), the verify app as the
// upstream on 127.0.0.1:8000, and `mtls-edge run` on examples/demo/config.yaml. Ctrl-C stops all of it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certsCommand } from '../src/commands/certs.js';
import { startVerifyApp } from '../src/demo/verify-app.js';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const CERTS = join(ROOT, 'certs');
const CONFIG = join(ROOT, 'examples', 'demo', 'config.yaml');
const CLI = fileURLToPath(new URL('../../mtls-edge.mjs', import.meta.url));
const IDENTITY = 'yourUsername@localhost.pomerium.io';

async function ensureCertificates(): Promise<void> {
  const steps: Array<[string, string[]]> = [
    ['ca.pem', ['ca']],
    ['_wildcard.localhost.pomerium.io.pem', ['server', '*.localhost.pomerium.io', 'localhost.pomerium.io']],
    [`${IDENTITY}-client.p12`, ['client', IDENTITY]],
  ];
  for (const [file, args] of steps) {
    if (existsSync(join(CERTS, file))) continue;
    if ((await certsCommand(args, { dir: CERTS, force: false, legacy: false })) !== 0) process.exit(2);
  }
}

await ensureCertificates();
const app = await startVerifyApp('127.0.0.1', 8000);
const edge = spawn(process.execPath, [CLI, 'run', '--config', CONFIG], { stdio: 'inherit' });
const r = '--resolve verify.localhost.pomerium.io:8443:127.0.0.1';
console.log(`
mtls-edge demo — once Envoy runs the config (http://127.0.0.1:9902/synced answers 200):

  browser: import certs/${IDENTITY}-client.p12 (password "changeit"), then open
           https://verify.localhost.pomerium.io:8443/   (your identity, from the certificate)
           https://public.localhost.pomerium.io:8443/   (no certificate needed)
           (*.localhost.pomerium.io resolves to 127.0.0.1; trust certs/ca.pem or accept the warning)
  curl:    curl ${r} --cacert certs/ca.pem --cert certs/${IDENTITY}-client.pem --key certs/${IDENTITY}-client-key.pem https://verify.localhost.pomerium.io:8443/
           curl ${r} --cacert certs/ca.pem https://verify.localhost.pomerium.io:8443/    # 403: the policy needs a certificate
`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => edge.kill(signal));
edge.on('exit', (code) => {
  app.close();
  process.exit(code ?? 0);
});
