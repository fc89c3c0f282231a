import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../../control-plane/src/pki/index.js';
import { applyConfig } from '../support/config-edits.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { brokenConfigEdits, hotReloadConfig, restoreFiles, type ConfigOptions } from './hot-reload-fixture.js';

// Edits of the config and the files it names, applied to a running Envoy without a restart, over both xDS protocols.
for (const xdsProtocol of ['sotw', 'delta'] as const)
  describe(`hot reload (${xdsProtocol} xDS)`, () => {
    let pki: TestPki;
    let one: TestUpstream;
    let two: TestUpstream;
    let edge: RunningEdge;
    let envoyPid: number | null;

    const config = (o: ConfigOptions = {}) => hotReloadConfig(o, one.url);

    before(async () => {
      pki = await createTestPki();
      writeFileSync(join(pki.dir, 'client-ca.pem'), pki.caA);
      one = await startUpstream('one');
      two = await startUpstream('two');
      edge = await startEdge({ dir: pki.dir, yaml: config(), xdsProtocol });
      const status = await edge.status();
      envoyPid = status.envoyPid;
      const protocols = status.nodes.map((n) => n.protocol);
      assert.deepEqual(protocols, [xdsProtocol]);
    });
    after(async () => {
      await edge?.stop();
      await Promise.all([one?.close(), two?.close()]);
    });

    // Every test starts from the first config and files, whatever the tests before it left, so that each
    // passes alone and in any order.
    beforeEach(() => applyConfig(edge, config(), () => restoreFiles(pki)));

    const getX = (client = pki.clientA, path = '/') =>
      httpsGet({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path, ...client });
    const listenerStats = () => edge.envoyStats('listener_manager.');
    /** Waits for a new version to be applied and acknowledged by Envoy. */
    const applied = async (before: string) =>
      edge.waitForStatus((s) => s.configVersion !== before && s.synced && s.reload.errors.length === 0);
    const rejected = async (failuresBefore: number) => edge.waitForStatus((s) => s.reload.failures > failuresBefore);

    it('a route-only edit (another upstream) reaches Envoy and re-sends no listener, so nothing drains', async () => {
      const stats = await listenerStats();
      const { configVersion } = await edge.status();
      edge.writeConfig(config({ xTo: two.url }));
      await applied(configVersion);
      assert.equal((await getX()).body, 'upstream two /');
      const after = await listenerStats();
      assert.equal(after['listener_manager.listener_modified'], stats['listener_manager.listener_modified']);
      assert.equal(after['listener_manager.total_filter_chains_draining'], 0);
      assert.equal((await edge.status()).envoyPid, envoyPid, 'Envoy was not restarted');
    });

    it(
      'adding and removing a host changes only the SNI matcher: ' +
        'an open connection to an unchanged host is not drained',
      async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const viaAgent = async () => {
          const r = await httpsGet({
            port: edge.httpsPort,
            servername: HOSTS.x,
            ca: pki.caA,
            ...pki.clientA,
            agent,
            includeHeaders: true,
          });
          const connection = r.headers?.['connection'];
          return {
            port: r.localPort ?? 0,
            body: r.body,
            connection: typeof connection === 'string' ? connection : undefined,
          };
        };
        try {
          const first = await viaAgent();
          for (const more of [
            `  - from: https://added.mtls.test\n    to: ${two.url}\n    allow_any_authenticated_user: true\n`,
            '',
          ]) {
            const { configVersion } = await edge.status();
            edge.writeConfig(config({ more }));
            await applied(configVersion);
            await new Promise((r) => setTimeout(r, 1500)); // longer than --drain-time-s 1
            const again = await viaAgent();
            assert.equal(again.port, first.port, 'the same TLS connection still serves');
            assert.notEqual(again.connection, 'close');
          }
          assert.equal((await listenerStats())['listener_manager.total_filter_chains_draining'], 0);
        } finally {
          agent.destroy();
        }
      },
    );

    it('an in-place write (no rename) is seen too', async () => {
      for (const [to, name] of [
        [two.url, 'two'],
        [one.url, 'one'],
      ] as const) {
        const { configVersion } = await edge.status();
        edge.writeConfig(config({ xTo: to }), 'in-place');
        await applied(configVersion);
        assert.equal((await getX()).body, `upstream ${name} /`);
      }
    });

    it(
      'rotating the client CA file is a trust change: the new ' +
        "CA applies, and Envoy drains only that CA's filter chain",
      async () => {
        const stats = await listenerStats();
        const { configVersion } = await edge.status();
        const newCa = await createRootCa({ commonName: 'Rotated client CA' });
        const newClient = await issueClientCertificate(newCa, { commonName: 'dave' });
        // A keep-alive connection to z, whose chain (CA B) the rotation does not touch.
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const getZ = async () => {
          const r = await httpsGet({
            port: edge.httpsPort,
            path: '/z',
            servername: HOSTS.z,
            ca: pki.caA,
            ...pki.clientB,
            agent,
          });
          return { port: r.localPort ?? 0, status: r.status };
        };
        try {
          const first = await getZ();
          const tmp = join(pki.dir, 'client-ca.pem.new');
          writeFileSync(tmp, newCa.certPem);
          renameSync(tmp, join(pki.dir, 'client-ca.pem'));
          await applied(configVersion);
          assert.equal((await getX({ cert: newClient.certPem, key: newClient.keyPem })).status, 200);
          assert.match(
            await expectHandshakeRefused({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, ...pki.clientA }),
            /UNKNOWN_CA/,
          );
          const after = await listenerStats();
          // One listener update, made in place: only the filter chains that differ (x's, whose trust changed) drain.
          assert.equal(
            after['listener_manager.listener_in_place_updated'],
            stats['listener_manager.listener_in_place_updated']! + 1,
          );
          await new Promise((r) => setTimeout(r, 1500)); // longer than --drain-time-s 1
          const again = await getZ();
          assert.deepEqual(again, first, 'the connection to the untouched chain still serves');
        } finally {
          agent.destroy();
        }
        writeFileSync(join(pki.dir, 'client-ca.pem'), pki.caA);
        // The same content gives the same version again: versions are content hashes.
        await edge.waitForStatus((s) => s.configVersion === configVersion && s.synced);
      },
    );

    it(
      'rotating the server certificate changes only an SDS ' + 'secret and new handshakes get the new certificate',
      async () => {
        const stats = await listenerStats();
        const { configVersion } = await edge.status();
        const newCa = await createRootCa({ commonName: 'Rotated server CA' });
        const rotated = await issueServerCertificate(newCa, { dnsNames: Object.values(HOSTS) });
        writeFileSync(join(pki.dir, 'server.pem.new'), rotated.chainPem);
        writeFileSync(join(pki.dir, 'server-key.pem.new'), rotated.keyPem);
        renameSync(join(pki.dir, 'server-key.pem.new'), join(pki.dir, 'server-key.pem'));
        renameSync(join(pki.dir, 'server.pem.new'), join(pki.dir, 'server.pem'));
        await applied(configVersion);
        const res = await httpsGet({ port: edge.httpsPort, servername: HOSTS.x, ca: newCa.certPem, ...pki.clientA });
        assert.equal(res.status, 200, 'the client trusts only the new server CA, so the new certificate was served');
        assert.equal(
          (await listenerStats())['listener_manager.listener_modified'],
          stats['listener_manager.listener_modified'],
        );
        writeFileSync(join(pki.dir, 'server.pem'), pki.serverCert);
        writeFileSync(join(pki.dir, 'server-key.pem'), pki.serverKey);
        await edge.waitForStatus((s) => s.configVersion === configVersion && s.synced);
      },
    );

    const brokenEdits = brokenConfigEdits({
      writeConfig: (yaml) => edge.writeConfig(yaml),
      config,
      dir: () => pki.dir,
      caB: () => pki.caB,
    });

    for (const edit of brokenEdits) {
      it(
        `${edit.name}: the last good config keeps serving, the error ` +
          `(file, key, line) shows in /status, the next good edit applies`,
        async () => {
          const before = await edge.status();
          edit.break();
          const broken = await rejected(before.reload.failures);
          assert.equal(broken.configVersion, before.configVersion, 'nothing new was served');
          const error = broken.reload.errors[0]!;
          assert.match(error.text, edit.error);
          assert.ok(error.file.endsWith(edit.file), error.file);
          if (edit.file === 'config.yaml' && !/YAML/.test(edit.name))
            assert.ok(error.line && error.line > 0, 'the line is named');
          const synced = (await fetch(`${edge.adminUrl}/synced`)).status;
          assert.equal(synced, 200, 'the serving config is still what Envoy runs');
          assert.equal((await getX()).body, 'upstream one /', 'the old routes still answer');
          const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
          assert.match(metrics, /^mtls_edge_config_error 1$/m);

          edit.fix();
          await edge.waitForStatus((s) => s.reload.errors.length === 0 && s.synced);
          assert.equal((await getX()).body, 'upstream one /');
        },
      );
    }

    it(
      'a config Envoy refuses (NACK) is recorded, not ' + 're-sent, and the last acknowledged one is served again',
      async () => {
        const before = await edge.status();
        const nacks = async () =>
          Number(
            /^mtls_edge_xds_nacks_total (\d+)$/m.exec(await (await fetch(`${edge.adminUrl}/metrics`)).text())?.[1],
          );
        const nacksBefore = await nacks();
        // A valid RE2 pattern, but its compiled program is larger than Envoy allows (max_program_size): only Envoy can
        // refuse it.
        edge.writeConfig(
          config({
            extraRoute: `  - from: https://${HOSTS.x}\n    regex: ^/[a-z]{1,1000}\n    to: ${two.url}\n    allow_any_authenticated_user: true\n`,
          }),
        );
        const nacked = await edge.waitForStatus(
          (s) => s.rejected !== null && s.rejected.version !== before.configVersion && s.synced,
        );
        assert.match(nacked.rejected!.message, /program size/i);
        assert.equal(nacked.rejected!.node, 'mtls-edge');
        const rds = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
        assert.equal(
          nacked.typeVersions[rds],
          before.typeVersions[rds],
          'route configurations rolled back to the acknowledged ones',
        );
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(await nacks(), nacksBefore + 1, 'rejected once, not re-sent in a loop');
        const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
        assert.match(metrics, /^mtls_edge_config_error 1$/m, 'the config on disk is not what serves');
        assert.equal((await getX()).body, 'upstream one /');

        edge.writeConfig(config({ xTo: two.url }));
        await applied(nacked.configVersion);
        assert.equal((await getX()).body, 'upstream two /');
        assert.match(await (await fetch(`${edge.adminUrl}/metrics`)).text(), /^mtls_edge_config_error 0$/m);
      },
    );

    it(
      'only the rejected part rolls back: a CA rotated ' + 'in the same edit as a refused route stays rotated',
      async () => {
        const before = await edge.status();
        const newCa = await createRootCa({ commonName: 'Rotated with a bad route' });
        const newClient = await issueClientCertificate(newCa, { commonName: 'erin' });
        writeFileSync(join(pki.dir, 'client-ca.pem'), newCa.certPem);
        edge.writeConfig(
          config({
            xTo: two.url,
            extraRoute: `  - from: https://${HOSTS.x}\n    regex: ^/[a-z]{1,999}\n    to: ${one.url}\n    allow_any_authenticated_user: true\n`,
          }),
        );
        await edge.waitForStatus(
          (s) => s.rejected !== null && s.rejected.version !== before.rejected?.version && s.synced,
        );
        assert.equal(
          (await getX({ cert: newClient.certPem, key: newClient.keyPem })).status,
          200,
          'the new CA (an accepted secret) serves',
        );
        assert.match(
          await expectHandshakeRefused({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, ...pki.clientA }),
          /UNKNOWN_CA/,
          'the old CA is not back',
        );
        writeFileSync(join(pki.dir, 'client-ca.pem'), pki.caA);
        edge.writeConfig(config());
        await edge.waitForStatus(
          (s) => s.configVersion === before.configVersion && s.synced && s.reload.errors.length === 0,
        );
      },
    );
  });
