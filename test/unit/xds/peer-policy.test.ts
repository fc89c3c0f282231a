// Who may use the control channel is decided against the current client CA (issue 7); the answer per certificate is
// cached, and a reload that sets the same CA again keeps that cache (issue 13's fan-out: 100 Envoys re-verified on
// every edit). A changed CA must still drop it, and a certificate not valid yet must pass once its time comes.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, test } from 'node:test';
import {
  createRootCa,
  issueClientCertificate,
  type CertificateAuthority,
} from '../../../control-plane/src/pki/index.js';
import { NODE_URI_PREFIX, PeerPolicy } from '../../../control-plane/src/xds/index.js';

let caA: CertificateAuthority;
let caB: CertificateAuthority;
let fromA: Uint8Array;
let fromB: Uint8Array;
let early: Uint8Array;
const HOUR = 3600_000;

const der = async (ca: CertificateAuthority, node: string, notBefore?: Date): Promise<Uint8Array> => {
  const c = await issueClientCertificate(ca, {
    commonName: node,
    uris: [NODE_URI_PREFIX + node],
    extendedKeyUsage: 'clientAuth',
    ...(notBefore ? { notBefore } : {}),
  });
  return new X509Certificate(c.certPem).raw;
};

before(async () => {
  caA = await createRootCa({ commonName: 'peer policy CA A' });
  caB = await createRootCa({ commonName: 'peer policy CA B' });
  fromA = await der(caA, 'edge-a');
  fromB = await der(caB, 'edge-b');
  early = await der(caA, 'edge-early', new Date(Date.now() + HOUR));
});

test('setting the same CA again keeps the answers; another CA changes them', () => {
  const peers = new PeerPolicy();
  peers.setClientCa(caA.certPem);
  assert.equal(peers.streamRefusal('edge-a', fromA), undefined);
  assert.match(peers.streamRefusal('edge-b', fromB) ?? '', /not issued by a CA in xds_client_ca_file/);
  peers.setClientCa(caA.certPem); // a reload of an unchanged CA file
  assert.equal(peers.streamRefusal('edge-a', fromA), undefined);
  assert.match(peers.streamRefusal('edge-b', fromB) ?? '', /not issued by a CA/);
  peers.setClientCa(caB.certPem);
  assert.match(peers.streamRefusal('edge-a', fromA) ?? '', /not issued by a CA/, 'the old CA no longer counts');
  assert.equal(peers.streamRefusal('edge-b', fromB), undefined);
  assert.match(peers.streamRefusal('edge-b', fromA) ?? '', /not issued by a CA/);
});

test('a certificate not valid yet is refused until its time, then taken (the cached answer keeps no verdict)', () => {
  const peers = new PeerPolicy();
  peers.setClientCa(caA.certPem);
  const now = Date.now();
  assert.match(peers.streamRefusal('edge-early', early, now) ?? '', /not valid yet/);
  assert.equal(peers.streamRefusal('edge-early', early, now + 2 * HOUR), undefined);
  assert.match(peers.callRefusal(early, now) ?? '', /not valid yet/);
});
