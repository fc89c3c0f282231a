import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  createRootCa,
  issueClientCertificate,
  type CertificateAuthority,
} from '../../../control-plane/src/pki/index.js';
import { FLEET_URI_PREFIX, NODE_URI_PREFIX, nodeRefusal } from '../../../control-plane/src/xds/index.js';

let ca: CertificateAuthority;
const der = async (opts: { commonName: string; uris?: string[]; dnsNames?: string[]; email?: string }) =>
  new X509Certificate((await issueClientCertificate(ca, opts)).certPem).raw;

before(async () => {
  ca = await createRootCa({ commonName: 'node identity test' });
});

describe('nodeRefusal: a stream speaks only as the node its client certificate names', () => {
  test('the node a certificate names in its URI SAN, and no other', async () => {
    const edge1 = await der({ commonName: 'edge-1', uris: [NODE_URI_PREFIX + 'edge-1'] });
    assert.equal(nodeRefusal('edge-1', edge1, []), undefined);
    for (const other of ['edge-2', 'edge-1x', 'edge', 'EDGE-1', 'edge-1\u0000', ' edge-1', 'edge-1,edge-2']) {
      assert.match(
        nodeRefusal(other, edge1, []) ?? '',
        /is not the one the client certificate names node "edge-1"/,
        JSON.stringify(other),
      );
    }
  });

  test('the subject, DNS and email SANs name nothing: only the exact URI form does', async () => {
    const lookalikes = await der({
      commonName: 'edge-1',
      dnsNames: ['edge-1'],
      email: 'edge-1@example.com',
      uris: [
        `${NODE_URI_PREFIX}edge-1/extra`,
        `urn:mtls-edge:nodes:edge-1`,
        `URN:MTLS-EDGE:NODE:edge-1`,
        `x${NODE_URI_PREFIX}edge-1`,
      ],
    });
    assert.match(nodeRefusal('edge-1', lookalikes, []) ?? '', /is not the one/);
  });

  test('a fleet certificate: only the node ids in xds_node_ids', async () => {
    const fleet = await der({ commonName: 'fleet', uris: [FLEET_URI_PREFIX + 'blue'] });
    assert.equal(nodeRefusal('edge-7', fleet, ['edge-7', 'edge-8']), undefined);
    assert.match(
      nodeRefusal('edge-9', fleet, ['edge-7', 'edge-8']) ?? '',
      /fleet certificate may only use the node ids in xds_node_ids/,
    );
    assert.match(nodeRefusal('edge-7', fleet, []) ?? '', /fleet certificate may only use/, 'no list, no fleet member');
  });

  test('with xds_node_ids, a per-node certificate must also be listed', async () => {
    const edge3 = await der({ commonName: 'edge-3', uris: [NODE_URI_PREFIX + 'edge-3'] });
    assert.match(nodeRefusal('edge-3', edge3, ['edge-1']) ?? '', /"edge-3" is not in xds_node_ids/);
    assert.equal(nodeRefusal('edge-3', edge3, ['edge-1', 'edge-3']), undefined);
  });

  test('no node id, no certificate, a certificate that does not parse; the private socket', () => {
    assert.match(nodeRefusal('', 'local', []) ?? '', /names no node id/);
    assert.match(nodeRefusal('edge-1', undefined, []) ?? '', /no client certificate/);
    assert.match(nodeRefusal('edge-1', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), []) ?? '', /does not parse/);
    assert.equal(
      nodeRefusal('anything', 'local', []),
      undefined,
      "run's own Envoy, on a socket only this user can open",
    );
  });
});
