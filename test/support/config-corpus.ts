// The config corpus (test/fixtures/configs/): its files, the PEMs it names, and the two judges of a config, the
// validator and the JSON Schema editors use. Not a *.test.ts file.
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { resolveConfig, type ConfigError } from '../../control-plane/src/config/index.js';
import {
  createCrl,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
} from '../../control-plane/src/pki/index.js';
import { ROOT } from './kubernetes.js';

export { ROOT };
export const CORPUS = join(ROOT, 'test', 'fixtures', 'configs');
const CONFIG_DIR = '/etc/edge';

/** The corpus's files in one folder (`good` or `bad`), by name. */
export function corpusFiles(kind: 'good' | 'bad'): Array<{ name: string; text: string }> {
  const dir = join(CORPUS, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

export interface CorpusMaterial {
  /** `{{name}}` placeholders → base64 PEM (or a fingerprint). */
  placeholders: Record<string, string>;
  /** The files configs name, by absolute path. */
  files: Record<string, string>;
}

export async function corpusMaterial(): Promise<CorpusMaterial> {
  const ca = await createRootCa({ commonName: 'Corpus CA' });
  const caB = await createRootCa({ commonName: 'Corpus CA B' });
  const caC = await createRootCa({ commonName: 'Corpus CA C' });
  const server = await issueServerCertificate(ca, { dnsNames: ['a.example.com', 'b.example.com'] });
  const other = await issueServerCertificate(ca, { dnsNames: ['other.example.com'] });
  const client = await issueClientCertificate(ca, { commonName: 'alice', email: 'alice@example.com' });
  const crl = await createCrl(ca, []);
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const x509 = new X509Certificate(client.certPem);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return {
    placeholders: {
      ca: b64(ca.certPem),
      caB: b64(caB.certPem),
      caC: b64(caC.certPem),
      serverCert: b64(server.certPem),
      serverKey: b64(server.keyPem),
      clientCert: b64(client.certPem),
      // The edge's own client certificate for upstreams (tls_client_cert): a clientAuth certificate and its key.
      clientKey: b64(client.keyPem),
      crl: b64(crl),
      signingKey: b64(signingKey),
      clientFingerprint: x509.fingerprint256,
      clientSpkiHash: createHash('sha256').update(spki).digest('base64'),
    },
    files: {
      [`${CONFIG_DIR}/server.pem`]: server.certPem,
      [`${CONFIG_DIR}/server-key.pem`]: server.keyPem,
      [`${CONFIG_DIR}/other.pem`]: other.certPem,
      [`${CONFIG_DIR}/other-key.pem`]: other.keyPem,
      [`${CONFIG_DIR}/ca.pem`]: ca.certPem,
      [`${CONFIG_DIR}/ca-b.pem`]: caB.certPem,
      [`${CONFIG_DIR}/client.pem`]: client.certPem,
      [`${CONFIG_DIR}/client-key.pem`]: client.keyPem,
      [`${CONFIG_DIR}/crl.pem`]: crl,
      [`${CONFIG_DIR}/signing-key.pem`]: signingKey,
      [`${CONFIG_DIR}/idp-client-secret.txt`]: 'a client secret\n',
      [`${CONFIG_DIR}/cookie-secret.txt`]: `${Buffer.alloc(32, 9).toString('base64')}\n`,
    },
  };
}

export function fillPlaceholders(text: string, material: CorpusMaterial): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => material.placeholders[name] ?? whole);
}

/** The validator's verdict: its errors (empty when it accepts). */
export function validatorErrors(text: string, material: CorpusMaterial, file = `${CONFIG_DIR}/config.yaml`) {
  const result = validate(text, material, file);
  return result.ok ? [] : result.errors;
}

/** The validator's reading of a config: the Config, or its errors. */
export function validate(text: string, material: CorpusMaterial, file = `${CONFIG_DIR}/config.yaml`) {
  const readFile = (path: string): string => {
    const found = material.files[path];
    if (found === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return found;
  };
  const files = { readFile, configDir: CONFIG_DIR, cwd: '/srv/run' };
  return resolveConfig({ yaml: { text, file }, env: {}, files });
}

export function errorKeys(errors: readonly ConfigError[]): string[] {
  return errors.map((e) => e.key);
}

/** The committed schema, compiled: what an editor checks a file against. */
export function schemaJudge(): (data: unknown) => ErrorObject[] {
  const schema = JSON.parse(readFileSync(join(ROOT, 'config.schema.json'), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  // The YAML language server's keyword for Markdown descriptions.
  ajv.addKeyword('markdownDescription');
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? [] : [...(validate.errors ?? [])]);
}

/** An ajv error's place as the validator writes keys: `/routes/0/policy` → `routes[0].policy` (+ the bad key). */
export function schemaErrorKey(e: ErrorObject): string {
  let key = '';
  for (const part of e.instancePath.split('/').slice(1)) {
    const name = part.replace(/~1/g, '/').replace(/~0/g, '~');
    key += /^\d+$/.test(name) ? `[${name}]` : key === '' ? name : `.${name}`;
  }
  const extra =
    e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : '';
  if (extra) key = key === '' ? extra : `${key}.${extra}`;
  return key === '' ? '(document)' : key;
}
