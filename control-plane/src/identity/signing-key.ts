// The ES256 key that signs X-Pomerium-Jwt-Assertion: loaded from a PEM file, or generated once
// and kept, so that upstreams holding the JWKS keep trusting assertions across restarts.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SigningKey } from './types.js';

/** An outcome for people: the value, or a message that says what to fix (never key material). */
export type Fallible<T> = { ok: true; value: T } | { ok: false; error: string };

const SIGNING_KEY_FILE = 'signing-key.pem';
const STATE_FOLDER = '.mtls-edge';

/**
 * The signing key of a PEM private key: ECDSA P-256 (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY").
 * `privateKeyPem` is always PKCS#8; `kid` is the RFC 7638 thumbprint of the public JWK.
 * Throws when the text is not such a key; messages never contain key material.
 */
export async function signingKeyFromPem(pem: string): Promise<SigningKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(
      'not a PEM private key (expected an unencrypted "-----BEGIN PRIVATE KEY-----" or "-----BEGIN EC ' +
        'PRIVATE KEY-----")',
    );
  }
  if (key.asymmetricKeyType !== 'ec') {
    throw new Error(
      `the key is ${key.asymmetricKeyType?.toUpperCase() ?? 'of an unknown type'}, but an ECDSA P-256 ` +
        `key is needed for ES256`,
    );
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'prime256v1')
    throw new Error(`the key is on curve ${curve ?? '(unknown)'}, but ES256 needs P-256 (prime256v1)`);

  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('the public key could not be exported');
  // RFC 7638 (SHA-256): jose picks the required members, orders and serializes them.
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, 'sha256');
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    kid,
    publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' },
  };
}

/**
 * The key in `path`, or, when there is no such file, a new P-256 key written there (PKCS#8 PEM,
 * mode 0600, folders created with mode 0700). The file is written under a temporary name in the
 * same folder and renamed, so a crash never leaves a partial key behind.
 * A file that is not a P-256 key is an error naming the path; it is never replaced.
 */
export async function loadOrCreateSigningKey(path: string): Promise<Fallible<{ key: SigningKey; created: boolean }>> {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      return { ok: false, error: `${path}: cannot read the signing key (${code ?? (e as Error).message})` };
  }
  if (text !== undefined) {
    try {
      return { ok: true, value: { key: await signingKeyFromPem(text), created: false } };
    } catch (e) {
      return {
        ok: false,
        error: `${path}: ${(e as Error).message}; fix or remove the file (a new key is then generated)`,
      };
    }
  }

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const folder = dirname(path);
  const temp = join(folder, `.${SIGNING_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(temp, pem, { mode: 0o600, flag: 'wx', flush: true });
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, error: `${path}: cannot write a new signing key (${code ?? (e as Error).message})` };
  }
  return { ok: true, value: { key: await signingKeyFromPem(pem), created: true } };
}

/**
 * Where the signing key is kept: `$MTLS_EDGE_STATE_DIR/signing-key.pem` when that is set, else
 * `.mtls-edge/signing-key.pem` next to the config file, else in the working folder.
 */
export function defaultSigningKeyPath(
  configPath: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): string {
  const stateDir = env.MTLS_EDGE_STATE_DIR;
  if (stateDir !== undefined && stateDir !== '') return resolve(cwd, stateDir, SIGNING_KEY_FILE);
  const base = configPath === undefined || configPath === '' ? cwd : dirname(resolve(cwd, configPath));
  return join(base, STATE_FOLDER, SIGNING_KEY_FILE);
}
