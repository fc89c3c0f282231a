import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { writeAllOrNothing } from '../certs/files.js';
import {
  createCrl,
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../pki/index.js';
import { createPkcs12 } from '../pki/pkcs12.js';
import { makeControlPlaneCertificate, makeEnvoyCertificate } from './certs-control-channel.js';
import { makeSigningKey } from './certs-signing-key.js';
import { file, secret, show, type CertsOptions, type Out } from './certs-output.js';

export type { CertsOptions } from './certs-output.js';

/** The steps of `mtls-edge certs`, for its help and shell completion (cli/commands.ts). */
export const CERTS_STEPS = [
  { name: 'ca', description: 'a development CA in DIR: ca.pem, ca-key.pem (0600); reused if present' },
  { name: 'server', args: 'NAME...', description: 'a server certificate for NAME... (wildcards allowed), from the CA' },
  {
    name: 'client',
    args: 'IDENTITY',
    description: 'a client certificate (email SAN, else CN) as PEM and PKCS#12 (see --password)',
  },
  { name: 'crl', args: 'CERT.pem|SERIAL...', description: 'revoke client certificates and write DIR/crl.pem' },
  {
    name: 'control-plane',
    args: 'HOST...',
    description: "the control channel's CA (reused if present) and a certificate for the names Envoys dial",
  },
  {
    name: 'envoy',
    args: 'NODE_ID | --fleet NAME',
    description: 'a client certificate for one Envoy, or one for a fleet',
  },
  {
    name: 'signing-key',
    description: 'the key that signs identity headers, for every replica (reused if present)',
  },
] as const;

/** `mtls-edge certs …`: the steps of Pomerium's mTLS guide that used mkcert. Writes all of a step's files or none. */
export async function certsCommand(args: string[], o: CertsOptions): Promise<number> {
  const [sub, ...rest] = args;
  let out: Out;
  try {
    out =
      sub === 'ca'
        ? await makeCa(o, rest)
        : sub === 'server'
          ? await makeServer(o, rest)
          : sub === 'client'
            ? await makeClient(o, rest)
            : sub === 'crl'
              ? await makeCrl(o, rest)
              : sub === 'control-plane'
                ? await makeControlPlaneCertificate(o, rest)
                : sub === 'envoy'
                  ? await makeEnvoyCertificate(o, rest)
                  : sub === 'signing-key'
                    ? await makeSigningKey(o, rest)
                    : { ok: false, error: unknownStep(sub) };
  } catch (e) {
    out = { ok: false, error: (e as Error).message };
  }
  if (!out.ok) {
    process.stderr.write(`mtls-edge certs: ${out.error}\n`);
    return 2;
  }
  if (!o.quiet) process.stdout.write(out.lines.join('\n') + '\n');
  return 0;
}

function unknownStep(step: string | undefined): string {
  const steps = CERTS_STEPS.map((s) => s.name).join(', ');
  const what = step === undefined ? 'which step?' : `unknown step ${JSON.stringify(step)}:`;
  return `${what} one of ${steps} (mtls-edge help certs)`;
}

async function makeCa(o: CertsOptions, rest: string[]): Promise<Out> {
  if (rest.length > 0) return { ok: false, error: `ca takes no arguments, got ${rest.join(' ')}` };
  if (existsSync(join(o.dir, 'ca.pem')) && !o.force) {
    await loadCa(o); // a broken existing CA is an error, not something to reuse
    return { ok: true, lines: [`reusing the CA in ${show(o, 'ca.pem')}`, ...caConfigLines(o)] };
  }
  const ca = await createRootCa({
    commonName: 'mtls-edge development CA',
    notAfter: new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000),
  });
  const written = writeAllOrNothing([file(o, 'ca.pem', ca.certPem), secret(o, 'ca-key.pem', ca.keyPem)], o.force);
  if (written.error) return { ok: false, error: written.error };
  return {
    ok: true,
    lines: [`wrote ${show(o, 'ca.pem')} and ${show(o, 'ca-key.pem')} (keep the key private)`, ...caConfigLines(o)],
  };
}

async function makeServer(o: CertsOptions, names: string[]): Promise<Out> {
  if (names.length === 0)
    return { ok: false, error: 'server needs at least one name, e.g. certs server "*.localhost.pomerium.io"' };
  const bad = names.find((n) => !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(n));
  if (bad) return { ok: false, error: `not a host name: ${JSON.stringify(bad)}` };
  const ca = await loadCa(o);
  const cert = await issueServerCertificate(ca, { dnsNames: names.map((n) => n.toLowerCase()) });
  const base = names[0]!.toLowerCase().replace(/^\*/, '_wildcard');
  const [certFile, keyFile] = [`${base}.pem`, `${base}-key.pem`];
  const written = writeAllOrNothing([file(o, certFile, cert.chainPem), secret(o, keyFile, cert.keyPem)], o.force);
  if (written.error) return { ok: false, error: written.error };
  return {
    ok: true,
    lines: [
      `wrote ${show(o, certFile)} and ${show(o, keyFile)} for ${names.join(', ')}`,
      '',
      'config:',
      `  certificate_file: ${show(o, certFile)}`,
      `  certificate_key_file: ${show(o, keyFile)}`,
    ],
  };
}

async function makeClient(o: CertsOptions, args: string[]): Promise<Out> {
  const [identity, ...extra] = args;
  if (!identity || extra.length > 0)
    return { ok: false, error: 'client needs exactly one IDENTITY, e.g. certs client alice@example.com' };
  if (!/^[^\s/\\]+$/.test(identity)) return { ok: false, error: `not a usable identity: ${JSON.stringify(identity)}` };
  const ca = await loadCa(o);
  const email = identity.includes('@') ? identity : undefined;
  const cert = await issueClientCertificate(ca, { commonName: email ? identity.split('@')[0]! : identity, email });
  const password = o.password ?? 'changeit';
  if (password === '')
    return { ok: false, error: '--password must not be empty (tools read an empty PKCS#12 password differently)' };
  // The chain too, so that servers trusting only the root accept a certificate from an intermediate CA.
  const p12 = await createPkcs12(cert.keyPem, cert.chainPem, [], {
    password,
    friendlyName: identity,
    legacy: o.legacy,
  });
  const base = `${identity}-client`;
  const written = writeAllOrNothing(
    [file(o, `${base}.pem`, cert.certPem), secret(o, `${base}-key.pem`, cert.keyPem), secret(o, `${base}.p12`, p12)],
    o.force,
  );
  if (written.error) return { ok: false, error: written.error };
  return {
    ok: true,
    lines: [
      `wrote ${show(o, `${base}.pem`)}, ${show(o, `${base}-key.pem`)} and ${show(o, `${base}.p12`)} ` +
        `(password "${password}"${o.legacy ? ', legacy 3DES/RC2/SHA-1 form' : ''})`,
      `serial ${cert.serialHex}`,
      '',
      'import the .p12 into your browser (Chrome: Settings → Privacy and security → Security → Manage certificates;',
      'Firefox: Settings → Privacy & Security → Certificates → View Certificates → Your Certificates → ' +
        'Import), or use it with curl:',
      `  curl --cert ${show(o, `${base}.pem`)} --key ${show(o, `${base}-key.pem`)} https://…`,
    ],
  };
}

async function makeCrl(o: CertsOptions, targets: string[]): Promise<Out> {
  if (targets.length === 0)
    return { ok: false, error: 'crl needs client certificates (PEM files) or serial numbers to revoke' };
  const ca = await loadCa(o);
  const serials: string[] = [];
  for (const t of targets) {
    if (/^[0-9a-f:]+$/i.test(t) && !existsSync(t)) serials.push(t.replace(/:/g, '').toLowerCase());
    else {
      const text = readFile(t, 'certificate');
      serials.push(new X509Certificate(text).serialNumber.toLowerCase());
    }
  }
  // The CRL lists everything revoked so far: keep the list beside it.
  const listPath = join(o.dir, 'revoked.txt');
  const previous = existsSync(listPath) ? readFileSync(listPath, 'utf8').split('\n').filter(Boolean) : [];
  const all = [...new Set([...previous, ...serials])];
  const crl = await createCrl(ca, all);
  const written = writeAllOrNothing([file(o, 'crl.pem', crl), file(o, 'revoked.txt', all.join('\n') + '\n')], true);
  if (written.error) return { ok: false, error: written.error };
  return {
    ok: true,
    lines: [
      `wrote ${show(o, 'crl.pem')} revoking ${all.length} certificate(s): ${all.join(', ')}`,
      '',
      'config:',
      '  downstream_mtls:',
      `    ca_file: ${show(o, 'ca.pem')}`,
      `    crl_file: ${show(o, 'crl.pem')}`,
    ],
  };
}

async function loadCa(o: CertsOptions): Promise<CertificateAuthority> {
  const cert = readFile(join(o.dir, 'ca.pem'), 'CA certificate (run `mtls-edge certs ca` first)');
  const key = readFile(join(o.dir, 'ca-key.pem'), 'CA key');
  try {
    return await loadCertificateAuthority(cert, key);
  } catch (e) {
    throw new Error(`cannot use the CA in ${show(o, 'ca.pem')}: ${(e as Error).message}`, { cause: e });
  }
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(
      `cannot read the ${what} at ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

function caConfigLines(o: CertsOptions): string[] {
  return [
    '',
    'config (all routes need a certificate from this CA):',
    '  downstream_mtls:',
    `    ca_file: ${show(o, 'ca.pem')}`,
  ];
}
