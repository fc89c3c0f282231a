import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CONTROL_CHANNEL_HOW_TO } from '../config/control-channel.js';
import type { Config, ControlChannelTls } from '../config/index.js';
import { isIpAddress } from '../model/hostnames.js';
import { createRootCa, issueServerCertificate } from '../pki/index.js';
import { ControlChannelCredentials, type AdsServer, type ChannelTlsMaterial } from '../xds/index.js';

/** The TCP port of the xDS/ext_authz server, as the runner set it up. */
export interface ControlChannel {
  /** The TCP port (mutual TLS), if one is open. */
  tcpPort?: number;
  /** A config edit: rotates the certificates of the TCP port (the next handshake uses them). */
  apply(config: Config): void;
}

/** A socket path must fit in sockaddr_un (108 bytes on Linux, with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * The control channel opens in two steps, so that `run` can start its Envoy as soon as the first is done (issue 14,
 * point 3). First `privateDir` (a 0700 folder of this run, for its child Envoy) gets a Unix socket that only this
 * user can open. Then the TCP `xds_address`, which always requires a client certificate: from `xds_client_ca` when
 * configured, else (a `run` whose config names an xds_address but no certificates) from a CA made for this run and
 * thrown away, so that no Envoy but the child, which uses the socket, can use the control plane.
 */
export async function openPrivateChannel(
  ads: AdsServer,
  config: Config,
  privateDir: string | undefined,
): Promise<{ privateSocket: string | undefined } | { error: string }> {
  if (!privateDir && !config.xdsTls) {
    return {
      error:
        `--no-envoy serves Envoys over the network, which needs mutual TLS on the control channel: ` +
        `${CONTROL_CHANNEL_HOW_TO}`,
    };
  }
  if (!privateDir) return { privateSocket: undefined };
  const socket = join(privateDir, 'xds.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH)
    return {
      error: `the private socket path ${socket} is too long for a Unix socket; set TMPDIR to a shorter folder`,
    };
  chmodSync(privateDir, 0o700);
  await ads.listenPrivateSocket(socket);
  chmodSync(socket, 0o600);
  return { privateSocket: socket };
}

/** The second step: the TCP port, when the config names one (see openPrivateChannel). */
export async function openNetworkChannel(ads: AdsServer, config: Config, log: Logger): Promise<ControlChannel> {
  const channel: ControlChannel = { apply: () => {} };
  if (config.xdsTls || config.xdsAddressConfigured) {
    const credentials = new ControlChannelCredentials(
      config.xdsTls ? material(config.xdsTls) : await perRunMaterial(config.xdsAddress.host),
    );
    if (!config.xdsTls)
      log.warn(
        { xds: `${config.xdsAddress.host}:${config.xdsAddress.port}` },
        `xds_address is set but the control channel has no certificates: the port accepts no Envoy but ` +
          `this run's own; to let other Envoys connect, ${CONTROL_CHANNEL_HOW_TO}`,
      );
    channel.tcpPort = await ads.listen(config.xdsAddress, credentials.credentials);
    let configured = config.xdsTls !== undefined;
    channel.apply = (next) => {
      if (!next.xdsTls) {
        if (configured)
          log.warn(
            {},
            'the control channel certificates were removed from the config; the port keeps the last ones ' +
              'until a restart',
          );
        return;
      }
      if (!configured) log.warn({}, 'the control channel certificates apply to this port from now on');
      configured = true;
      if (credentials.update(material(next.xdsTls)))
        log.info({}, 'control channel certificates rotated; new connections use them');
    };
  }
  return channel;
}

function material(tls: ControlChannelTls): ChannelTlsMaterial {
  return { certPem: tls.certPem, keyPem: tls.keyPem, clientCaPem: tls.clientCaPem };
}

/**
 * A CA and server certificate for this run only; the CA key is dropped, so no client certificate can ever be issued.
 */
async function perRunMaterial(host: string): Promise<ChannelTlsMaterial> {
  const ca = await createRootCa({ commonName: 'mtls-edge control channel (this run only)' });
  const wildcard = host === '0.0.0.0' || host === '::';
  const ip = wildcard ? '127.0.0.1' : isIpAddress(host) ? host : undefined;
  const server = await issueServerCertificate(ca, {
    dnsNames: ip ? ['localhost'] : [...new Set(['localhost', host])],
    ipAddresses: ip ? [ip] : [],
  });
  return { certPem: server.chainPem, keyPem: server.keyPem, clientCaPem: ca.certPem };
}
