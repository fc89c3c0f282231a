import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTS, type TestPki } from '../support/pki-fixture.js';

export interface ConfigOptions {
  /** Where x's route goes (the first upstream by default). */
  xTo?: string;
  extraRoute?: string;
  /** Text appended as it is (a broken edit). */
  more?: string;
}

/** The hot-reload tests' config: x under the global CA, z's /z under its own CA (ca-b.pem). */
export function hotReloadConfig(o: ConfigOptions, upstreamUrl: string): string {
  return `
certificate_file: server.pem
certificate_key_file: server-key.pem
client_ca_file: client-ca.pem
routes:
  - from: https://${HOSTS.x}
    to: ${o.xTo ?? upstreamUrl}
    allow_any_authenticated_user: true
  - from: https://${HOSTS.z}
    prefix: /z
    to: ${upstreamUrl}
    tls_downstream_client_ca_file: ca-b.pem
    allow_any_authenticated_user: true
${o.extraRoute ?? ''}${o.more ?? ''}`;
}

export interface BrokenEdit {
  name: string;
  break: () => void;
  fix: () => void;
  /** What the control plane must say, and of which file. */
  error: RegExp;
  file: string;
}

/** Edits that must be refused while the last good config keeps serving: the YAML, a key, a named file. */
export function brokenConfigEdits(o: {
  writeConfig: (yaml: string) => void;
  config: (options?: ConfigOptions) => string;
  dir: () => string;
  caB: () => string;
}): BrokenEdit[] {
  const caB = () => join(o.dir(), 'ca-b.pem');
  return [
    {
      name: 'invalid YAML',
      break: () => o.writeConfig(o.config({ more: '  - from: [unclosed\n' })),
      fix: () => o.writeConfig(o.config()),
      error: /YAML syntax/,
      file: 'config.yaml',
    },
    {
      name: 'a failed validation',
      break: () => o.writeConfig(o.config({ more: 'clinet_ca_file: x.pem\n' })),
      fix: () => o.writeConfig(o.config()),
      error: /clinet_ca_file: unknown key/,
      file: 'config.yaml',
    },
    {
      name: 'a CA file that disappears (then is created again)',
      break: () => rmSync(caB()),
      fix: () => writeFileSync(caB(), o.caB()),
      error: /tls_downstream_client_ca_file: cannot read file ".*ca-b\.pem": ENOENT/,
      file: 'config.yaml',
    },
    {
      name: 'a PEM that does not parse',
      break: () => writeFileSync(caB(), 'garbage\n'),
      fix: () => writeFileSync(caB(), o.caB()),
      error: /no PEM certificate found/,
      file: 'config.yaml',
    },
  ];
}

/** The files of the first config, as the tests before may have left them otherwise. */
export function restoreFiles(pki: TestPki): void {
  writeFileSync(join(pki.dir, 'client-ca.pem'), pki.caA);
  writeFileSync(join(pki.dir, 'ca-b.pem'), pki.caB);
  writeFileSync(join(pki.dir, 'server.pem'), pki.serverCert);
  writeFileSync(join(pki.dir, 'server-key.pem'), pki.serverKey);
}
