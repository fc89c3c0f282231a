// Shared setup of the downstream_mtls e2e tests: an edge per describe, client certificates, route texts.
import { after, before } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { createTestPki, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

export const DAY = 24 * 3600 * 1000;
export const client = (c: { certPem: string; keyPem: string; chainPem?: string }): ClientCert => ({
  cert: c.chainPem ?? c.certPem,
  key: c.keyPem,
});

/** One edge per config; `up` records what reached the upstream. */
export function withEdge(yamlOf: (up: TestUpstream, pki: TestPki) => string, setup?: (pki: TestPki) => Promise<void>) {
  const ctx = {} as { pki: TestPki; up: TestUpstream; edge: RunningEdge };
  before(async () => {
    ctx.pki = await createTestPki();
    await setup?.(ctx.pki);
    ctx.up = await startUpstream('u');
    ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: yamlOf(ctx.up, ctx.pki) });
  });
  after(async () => {
    await ctx.edge?.stop();
    await ctx.up?.close();
  });
  return ctx;
}

export const SERVER = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';
export const route = (host: string, to: string, extra = '    allow_any_authenticated_user: true') =>
  `  - from: https://${host}\n    to: ${to}\n${extra}\n`;
