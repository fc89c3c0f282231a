// Shared setup of the environment variable tests: the test PEMs, copies under the cwd, route texts.
import { createHash, X509Certificate } from 'node:crypto';
import { MemoryFiles, loadPems, standardFiles, yaml, type Pems } from './fixture.js';

export let pems: Pems;
/** Loads the test PEMs; each test file calls it from its `before` hook. */
export async function loadTestPems(): Promise<void> {
  pems = await loadPems();
}
export const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
/** The standard files, plus copies under the cwd so a test can see which directory a path went to. */
export function filesWithCwdCopies(): MemoryFiles {
  const std = standardFiles(pems);
  const copies = Object.fromEntries(
    Object.entries(std).map(([path, text]) => [path.replace('/etc/edge/', '/srv/run/certs/'), text]),
  );
  return new MemoryFiles({ ...std, ...copies });
}

export const ROUTES_YAML = yaml`
  - from: https://env.example.com
    to: http://127.0.0.1:9000
    allow_public_unauthenticated_access: true
`;

export const ANY_USER_ROUTE = yaml`
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
      allow_any_authenticated_user: true
`;
