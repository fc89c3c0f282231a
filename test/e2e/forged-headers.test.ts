import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { startEdge } from '../support/edge.js';
import {
  assertOnlyEdgeValues,
  forgeableHeaderNames,
  forgedHeaders,
  receivedValues,
} from '../support/forged-headers.js';
import { SENDERS, type Protocol, type SendOutcome } from '../support/header-clients.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert } from '../support/pki-fixture.js';
import { startUpstream, type SeenRequest } from '../support/upstream.js';
import {
  SET_HEADERS,
  KINDS,
  Kind,
  PROTOCOLS,
  fingerprintOf,
  spkiHashOf,
  Variant,
  claimHeadersOf,
  configYaml,
  Ctx,
  claimText,
} from './forged-headers-fixture.js';

function suite(variant: Variant): void {
  describe(`forged headers on every kind of route (${variant})`, () => {
    const ctx = { requests: 0, added: [] } as unknown as Ctx;
    before(async () => {
      ctx.pki = await createTestPki();
      const ca = ctx.pki.caAuthority;
      const a = await issueClientCertificate(ca, {
        commonName: 'alice',
        email: 'alice@example.com',
        moreEmails: ['a.l@example.com'],
        dnsNames: ['laptop.corp.example'],
        uris: ['spiffe://corp.example/alice'],
        userPrincipalNames: ['alice@corp.example'],
      });
      const d = await issueClientCertificate(ca, { commonName: 'dan' });
      ctx.alice = { cert: a.certPem, key: a.keyPem };
      ctx.dan = { cert: d.certPem, key: d.keyPem };
      ctx.up = await startUpstream('app');
      ctx.edge = await startEdge({ dir: ctx.pki.dir, yaml: configYaml(variant, ctx.up, spkiHashOf(ctx.alice.cert)) });
      const jwks = await httpsGet({
        port: ctx.edge.httpsPort,
        servername: HOSTS.x,
        ca: ctx.pki.caA,
        path: '/.well-known/pomerium/jwks.json',
        ...ctx.alice,
      });
      assert.equal(jwks.status, 200);
      ctx.jwks = JSON.parse(jwks.body) as JSONWebKeySet;
    });
    after(async () => {
      await ctx.edge?.stop();
      await ctx.up?.close();
    });

    const claimHeaders = () => claimHeadersOf(variant, ctx.added);
    const namesFor = (kind: Kind) =>
      forgeableHeaderNames(
        claimHeaders().map(([h]) => h),
        kind === 'set-headers' ? SET_HEADERS.map(([h]) => h) : [],
      );

    /**
     * Sends every forgeable header twice, in two cases, on a path of its own; returns the answer and what reached
     * the upstream.
     */
    const forge = async (
      kind: Kind,
      protocol: Protocol,
      who: ClientCert | undefined,
    ): Promise<{ res: SendOutcome; seen?: SeenRequest }> => {
      const path = `/${kind}/${protocol === 'HTTP/2' ? 'h2' : 'h1'}-${++ctx.requests}`;
      const res = await SENDERS[protocol]({
        port: ctx.edge.httpsPort,
        servername: HOSTS.x,
        ca: ctx.pki.caA,
        ...who,
        path,
        headers: forgedHeaders(namesFor(kind)),
      });
      return { res, seen: ctx.up.seen.find((s) => s.url === path) };
    };

    const served = async (kind: Kind, protocol: Protocol, who: ClientCert | undefined): Promise<SeenRequest> => {
      const { res, seen } = await forge(kind, protocol, who);
      assert.deepEqual(
        'status' in res ? res.status : res,
        200,
        `${kind} over ${protocol}: ${JSON.stringify(res).slice(0, 300)}`,
      );
      assert.ok(seen, `${kind} over ${protocol}: the request did not reach the upstream`);
      return seen;
    };

    /**
     * x-forwarded-client-cert: absent on the named-claims edge and without a verified certificate; else Envoy's one
     * value for it.
     */
    const checkForwardedCert = (seen: SeenRequest, verified: ClientCert | undefined) => {
      const xfcc = receivedValues(seen, 'x-forwarded-client-cert');
      if (variant === 'named-claims' || !verified) return assert.deepEqual(xfcc, []);
      assert.equal(xfcc.length, 1, `one x-forwarded-client-cert: ${JSON.stringify(xfcc)}`);
      assert.match(xfcc[0]!, new RegExp(`(^|;)Hash=${fingerprintOf(verified.cert)}(;|$)`));
      // Both certificates have a one-RDN subject, which Node and Envoy print alike.
      assert.ok(xfcc[0]!.includes(`Subject="${new X509Certificate(verified.cert).subject}"`), xfcc[0]);
      if (verified === ctx.alice) assert.match(xfcc[0]!, /URI=spiffe:\/\/corp\.example\/alice/);
    };

    /** The assertion is the edge's: one value that verifies against the edge's JWKS, for this certificate. */
    const checkAssertion = async (seen: SeenRequest, who: ClientCert): Promise<JWTPayload> => {
      const jwts = receivedValues(seen, 'x-pomerium-jwt-assertion');
      assert.equal(jwts.length, 1, `one x-pomerium-jwt-assertion: ${JSON.stringify(jwts)}`);
      const { payload } = await jwtVerify(jwts[0]!, createLocalJWKSet(ctx.jwks), {
        issuer: HOSTS.x,
        audience: HOSTS.x,
      });
      assert.equal(payload['fingerprint'], fingerprintOf(who.cert));
      return payload;
    };

    /**
     * A request with every forgeable header forged: only the edge's values reach the upstream. Alice's certificate
     * gives every claim a value; dan's has no email, so the email claim headers must not arrive at all.
     */
    const checkRoute = async (kind: Kind, protocol: Protocol, who: ClientCert = ctx.alice) => {
      const seen = await served(kind, protocol, who);
      const edgeSets: Record<string, string[]> = {};
      if (kind === 'identity') {
        const payload = await checkAssertion(seen, who);
        for (const [header, claim] of claimHeaders()) edgeSets[header.toLowerCase()] = claimText(payload[claim]);
        const [email, sanDns] = who === ctx.alice ? [['alice@example.com'], ['laptop.corp.example']] : [[], []];
        assert.deepEqual([edgeSets['x-pomerium-claim-email'], edgeSets['x-pomerium-claim-san-dns']], [email, sanDns]);
      }
      if (kind === 'set-headers') {
        edgeSets['x-client-fingerprint'] = [fingerprintOf(who.cert)];
        edgeSets['x-client-note'] = ['set by the edge'];
      }
      assertOnlyEdgeValues(seen, namesFor(kind), edgeSets, ['x-pomerium-jwt-assertion', 'x-forwarded-client-cert']);
      if (kind !== 'identity') assert.deepEqual(receivedValues(seen, 'x-pomerium-jwt-assertion'), []);
      checkForwardedCert(seen, who);
    };

    for (const kind of KINDS) {
      for (const protocol of PROTOCOLS) {
        it(
          `${kind} route over ${protocol}: forged copies (mixed ` +
            `case, twice) are gone; the edge's own headers arrive once`,
          () => checkRoute(kind, protocol),
        );
      }
    }

    for (const protocol of PROTOCOLS) {
      it(
        `identity and set-headers routes over ${protocol}, for a certificate ` +
          `without an email: claims it lacks arrive neither forged nor empty`,
        async () => {
          await checkRoute('identity', protocol, ctx.dan);
          await checkRoute('set-headers', protocol, ctx.dan);
        },
      );

      it(
        `public route over ${protocol} without a certificate, and with one ` +
          `from an untrusted CA: nothing forged, no certificate described`,
        async () => {
          for (const who of [undefined, ctx.pki.clientB]) {
            const seen = await served('public', protocol, who);
            assertOnlyEdgeValues(seen, namesFor('public'), {}, []);
          }
        },
      );

      it(
        `RBAC route over ${protocol}: a forged x-mtls-edge-peer-email ` +
          `does not admit a certificate without an email`,
        async () => {
          const { res, seen } = await forge('rbac', protocol, ctx.dan);
          assert.deepEqual('status' in res ? res.status : res, 403);
          assert.equal(seen, undefined);
        },
      );

      it(
        `over ${protocol}, a claim header spelt with underscores ` + `(read as dashes by some upstreams) is refused`,
        async () => {
          const path = `/public/underscore-${++ctx.requests}`;
          const res = await SENDERS[protocol]({
            port: ctx.edge.httpsPort,
            servername: HOSTS.x,
            ca: ctx.pki.caA,
            ...ctx.alice,
            path,
            headers: [['X_Pomerium_Claim_Email', 'forged-by-client@example.com']],
          });
          assert.ok('error' in res || res.status === 400, JSON.stringify(res).slice(0, 300));
          assert.equal(
            ctx.up.seen.find((s) => s.url === path),
            undefined,
          );
        },
      );
    }

    it('the RBAC route is decided by Envoy, the ext_authz and identity routes by the ext_authz service', async () => {
      const checks = async () =>
        Object.entries(await ctx.edge.envoyStats('http.'))
          .filter(([k]) => /\.ext_authz\.(ok|denied)$/.test(k))
          .reduce((n, [, v]) => n + v, 0);
      // A certificate Envoy has not seen: on the identity route its first request is a Check and the repeats are
      // answered from Envoy's identity cache (the harness runs one Envoy worker); a deny (its key is not the allowed
      // spki_hash) is asked about every time.
      const issued = await issueClientCertificate(ctx.pki.caAuthority, {
        commonName: 'frank',
        email: 'frank@example.com',
      });
      const frank = { cert: issued.certPem, key: issued.keyPem };
      const counts: Partial<Record<Kind, number>> = {};
      for (const kind of ['rbac', 'identity'] as const) {
        const before = await checks();
        for (let i = 0; i < 4; i++) await served(kind, 'HTTP/1.1', frank);
        counts[kind] = (await checks()) - before;
      }
      const before = await checks();
      for (let i = 0; i < 2; i++) {
        const { res, seen } = await forge('ext-authz', 'HTTP/1.1', frank);
        assert.equal('status' in res ? res.status : res, 403);
        assert.equal(seen, undefined);
      }
      counts['ext-authz'] = (await checks()) - before;
      assert.deepEqual(counts, { rbac: 0, identity: 1, 'ext-authz': 2 });
    });

    if (variant === 'named-claims') {
      it(
        'a claim header name added by a hot reload is stripped ' +
          'on every kind of route once Envoy has the new listener',
        async () => {
          const listener = async () => ctx.edge.envoyStats('listener_manager.');
          const [version, updated] = [
            (await ctx.edge.status()).configVersion,
            (await listener())['listener_manager.listener_in_place_updated'] ?? 0,
          ];
          ctx.added = [['X-Added-Later', 'common_name']];
          ctx.edge.writeConfig(configYaml(variant, ctx.up, spkiHashOf(ctx.alice.cert), ctx.added));
          await ctx.edge.waitForStatus((s) => s.configVersion !== version && s.synced && s.reload.errors.length === 0);
          // The strip list lives in the listener's filter chains: wait until Envoy serves new connections with the new
          // ones.
          const deadline = Date.now() + 10_000;
          for (
            let stats = await listener();
            !(
              stats['listener_manager.listener_in_place_updated']! > updated &&
              stats['listener_manager.total_listeners_warming'] === 0
            );
            stats = await listener()
          ) {
            assert.ok(Date.now() < deadline, `Envoy did not update the listener in place: ${JSON.stringify(stats)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          for (const kind of KINDS) for (const protocol of PROTOCOLS) await checkRoute(kind, protocol);
          // Put the first config back, so that no test depends on running before this one.
          const edited = (await ctx.edge.status()).configVersion;
          ctx.added = [];
          ctx.edge.writeConfig(configYaml(variant, ctx.up, spkiHashOf(ctx.alice.cert), ctx.added));
          await ctx.edge.waitForStatus((s) => s.configVersion !== edited && s.synced && s.reload.errors.length === 0);
        },
      );
    }
  });
}

suite('named-claims');
suite('xfcc');
