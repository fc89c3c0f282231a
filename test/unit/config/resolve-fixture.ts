// Shared setup of the resolveConfig tests: the test PEMs, certificate forms, a public route.
import { createHash, X509Certificate } from 'node:crypto';
import { MemoryFiles, loadPems, standardFiles, yaml, type Pems } from './fixture.js';

export let pems: Pems;
/** Loads the test PEMs; each test file calls it from its `before` hook. */
export async function loadTestPems(): Promise<void> {
  pems = await loadPems();
}
export const files = () => new MemoryFiles(standardFiles(pems));
export const canonical = (pem: string) => new X509Certificate(pem).toString().trim() + '\n';
export const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
export const PUBLIC_ROUTE = yaml`
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
      allow_public_unauthenticated_access: true
`;
