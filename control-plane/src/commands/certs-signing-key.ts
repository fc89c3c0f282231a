import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { writeAllOrNothing } from '../certs/files.js';
import { signingKeyFromPem } from '../identity/index.js';
import { secret, show, type CertsOptions, type Out } from './certs-output.js';

const FILE = 'signing-key.pem';

/**
 * `mtls-edge certs signing-key`: the key that signs identity headers, one PEM file for every replica of the control
 * plane (`run --no-envoy` refuses to start without one). Reused if present; --force replaces it.
 */
export async function makeSigningKey(o: CertsOptions, rest: string[]): Promise<Out> {
  if (rest.length > 0) return { ok: false, error: `signing-key takes no arguments, got ${rest.join(' ')}` };
  const path = join(o.dir, FILE);
  if (existsSync(path) && !o.force) {
    try {
      await signingKeyFromPem(readFileSync(path, 'utf8'));
    } catch (e) {
      return { ok: false, error: `cannot use the signing key in ${show(o, FILE)}: ${(e as Error).message}` };
    }
    return { ok: true, lines: [`reusing the signing key in ${show(o, FILE)}`, ...configLines(o)] };
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const written = writeAllOrNothing([secret(o, FILE, pem)], o.force);
  if (written.error) return { ok: false, error: written.error };
  return { ok: true, lines: [`wrote ${show(o, FILE)} (keep it private)`, ...configLines(o)] };
}

function configLines(o: CertsOptions): string[] {
  return [
    '',
    'give every control-plane replica the same file, in the config:',
    `  signing_key_file: ${resolve(o.dir, FILE)}`,
    `or in the environment: SIGNING_KEY=$(base64 -w0 ${show(o, FILE)})`,
    '',
    'to rotate (every key in the file is published in the JWKS, the first signs): add a new key after this one and',
    'wait until every replica has reloaded; move it first; five minutes later (the life of a JWT), remove this one.',
  ];
}
