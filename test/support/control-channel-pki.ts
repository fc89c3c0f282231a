import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../control-plane/src/pki/index.js';
import { FLEET_URI_PREFIX, NODE_URI_PREFIX } from '../../control-plane/src/xds/index.js';

export interface ChannelClient {
  cert: string;
  key: string;
  /** Files in the PKI's folder, for a bootstrap. */
  certFile: string;
  keyFile: string;
}

/**
 * The control channel's PKI, as `mtls-edge certs control-plane` / `certs envoy` make it, plus what an attacker might
 * hold.
 */
export interface ControlChannelPki {
  ca: CertificateAuthority;
  /** Files: control-plane-ca.pem, control-plane.pem, control-plane-key.pem. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The YAML lines that turn mutual TLS on (paths absolute). */
  yaml: string;
  /** A client certificate per node id, from the control-plane CA. */
  node(nodeId: string): Promise<ChannelClient>;
  fleet(name: string): Promise<ChannelClient>;
  /** From another CA: the control plane must refuse it. */
  foreign: ChannelClient;
  /** From the right CA, for the node `expired`, but expired. */
  expired: ChannelClient;
}

export async function createControlChannelPki(dir: string, prefix = 'cp'): Promise<ControlChannelPki> {
  const ca = await createRootCa({ commonName: `${prefix} control channel CA` });
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const other = await createRootCa({ commonName: `${prefix} someone else's CA` });
  const files = {
    caFile: join(dir, `${prefix}-ca.pem`),
    certFile: join(dir, `${prefix}.pem`),
    keyFile: join(dir, `${prefix}-key.pem`),
  };
  writeFileSync(files.caFile, ca.certPem);
  writeFileSync(files.certFile, server.chainPem);
  writeFileSync(files.keyFile, server.keyPem, { mode: 0o600 });
  const issue = async (
    name: string,
    authority: CertificateAuthority,
    uri: string,
    validity: { notBefore?: Date; notAfter?: Date } = {},
  ): Promise<ChannelClient> => {
    const c = await issueClientCertificate(authority, {
      commonName: name,
      uris: [uri],
      extendedKeyUsage: 'clientAuth',
      ...validity,
    });
    const certFile = join(dir, `${prefix}-envoy-${name}.pem`);
    const keyFile = join(dir, `${prefix}-envoy-${name}-key.pem`);
    writeFileSync(certFile, c.certPem);
    writeFileSync(keyFile, c.keyPem, { mode: 0o600 });
    return { cert: c.certPem, key: c.keyPem, certFile, keyFile };
  };
  const day = 24 * 3600 * 1000;
  return {
    ca,
    ...files,
    yaml:
      `xds_certificate_file: ${files.certFile}\nxds_certificate_key_file: ` +
      `${files.keyFile}\nxds_client_ca_file: ${files.caFile}\n`,
    node: (nodeId) => issue(nodeId, ca, NODE_URI_PREFIX + nodeId),
    fleet: (name) => issue(`fleet-${name}`, ca, FLEET_URI_PREFIX + name),
    foreign: await issue('intruder', other, NODE_URI_PREFIX + 'mtls-edge'),
    expired: await issue('expired', ca, NODE_URI_PREFIX + 'expired', {
      notBefore: new Date(Date.now() - 10 * day),
      notAfter: new Date(Date.now() - day),
    }),
  };
}

/**
 * gRPC client credentials for the control channel: the server verified against `caPem`, `client` presented if given.
 */
export function channelCredentials(caPem: string, client?: { cert: string; key: string }): grpc.ChannelCredentials {
  return client
    ? grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(client.key), Buffer.from(client.cert))
    : grpc.credentials.createSsl(Buffer.from(caPem));
}
