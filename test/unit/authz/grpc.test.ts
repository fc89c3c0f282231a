import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  ASSERTION_HEADER,
  AuthorizationService,
  loadAuthorizationService,
  type CheckRequest,
} from '../../../control-plane/src/authz/index.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdsServer, ControlChannelCredentials } from '../../../control-plane/src/xds/index.js';
import { channelCredentials, createControlChannelPki } from '../../support/control-channel-pki.js';
import {
  checkRequest,
  createAuthzPki,
  criterion,
  is,
  newSigner,
  or,
  route,
  silentLogger,
  tableOf,
  type AuthzPki,
} from './fixtures.js';

/** The decoded CheckResponse as a grpc-js client built from the same proto sees it (enums as names, oneofs named). */
interface WireResponse {
  status?: { code?: number; message?: string };
  http_response?: string;
  ok_response?: {
    headers?: Array<{ header?: { key?: string; value?: string }; append_action?: string }>;
    headers_to_remove?: string[];
  };
  dynamic_metadata?: { fields?: Record<string, WireValue> };
  denied_response?: {
    status?: { code?: string };
    headers?: Array<{ header?: { key?: string; value?: string } }>;
    body?: string;
  };
}

interface WireValue {
  kind?: string;
  bool_value?: boolean;
  number_value?: number;
  string_value?: string;
  struct_value?: { fields?: Record<string, WireValue> };
}

type CheckClient = grpc.Client & {
  Check(req: CheckRequest, cb: (err: grpc.ServiceError | null, res: WireResponse) => void): void;
};

function clientFor(port: number, credentials = grpc.credentials.createInsecure()): CheckClient {
  const Client = grpc.makeGenericClientConstructor(loadAuthorizationService(), 'Authorization');
  return new Client(`127.0.0.1:${port}`, credentials) as unknown as CheckClient;
}

function call(client: CheckClient, request: CheckRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => client.Check(request, (err, res) => (err ? reject(err) : resolve(res))));
}

let pki: AuthzPki;
const signer = await newSigner();
const table = () =>
  tableOf(
    route(
      'route-1',
      { allow: [or(criterion.email(is('alice@example.com')))], deny: [] },
      { passIdentityHeaders: true, claimsHeaders: [['X-Pomerium-Claim-Email', 'email']] },
    ),
  );
const newService = () => new AuthorizationService({ table, signer: () => signer, log: silentLogger() });

before(async () => {
  pki = await createAuthzPki();
});

describe('over gRPC', () => {
  const server = new grpc.Server();
  let client: CheckClient;

  before(async () => {
    server.addService(loadAuthorizationService(), newService().implementation());
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = clientFor(port);
  });
  after(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  test('an allowed Check carries the assertion and claim headers', async () => {
    const res = await call(client, checkRequest({ route: 'route-1', cert: pki.alice }));
    assert.equal(res.status?.code, 0);
    assert.equal(res.http_response, 'ok_response');
    const headers = res.ok_response?.headers ?? [];
    assert.equal(headers[0]?.header?.key, ASSERTION_HEADER);
    assert.match(headers[0]?.header?.value ?? '', /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(headers[0]?.append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
    assert.deepEqual(headers[1]?.header, { key: 'X-Pomerium-Claim-Email', value: 'alice@example.com' });
    // The mark the ext_authz filters read, and what Envoy's identity cache keeps, encoded as a Struct.
    const fields = res.dynamic_metadata?.fields ?? {};
    assert.deepEqual(fields['mtls_edge_allowed'], { bool_value: true, kind: 'bool_value' });
    const cache = fields['mtls_edge_cache']?.struct_value?.fields ?? {};
    const ttl = cache['ttl']?.number_value ?? 0;
    assert.ok(ttl > 60 && ttl <= 300, `kept for ${ttl} s`);
    const cachedHeaders = cache['headers']?.struct_value?.fields ?? {};
    assert.deepEqual(Object.keys(cachedHeaders), [ASSERTION_HEADER, 'x-pomerium-claim-email']);
    assert.equal(cachedHeaders[ASSERTION_HEADER]?.string_value, headers[0]?.header?.value);
    assert.equal(cachedHeaders['x-pomerium-claim-email']?.string_value, 'alice@example.com');
  });

  test('a denied Check is a 403 with the reason as plain text', async () => {
    const res = await call(client, checkRequest({ route: 'route-1', cert: pki.bob }));
    assert.equal(res.status?.code, 7);
    assert.equal(res.http_response, 'denied_response');
    assert.equal(res.dynamic_metadata, undefined);
    assert.equal(res.denied_response?.status?.code, 'Forbidden');
    // The page names the kind of rule, not whom it lets in: anyone may read it.
    assert.equal(
      res.denied_response?.body,
      'no allow rule matched (allow rule 1 needs: a certificate email this page accepts)',
    );
    assert.deepEqual(res.denied_response?.headers?.[0]?.header, {
      key: 'content-type',
      value: 'text/plain; charset=utf-8',
    });
  });
});

describe('sharing the xDS server', () => {
  test('AdsServer.addService serves Check on the ADS port (mutual TLS)', async () => {
    const ads = new AdsServer(silentLogger());
    ads.addService(loadAuthorizationService(), newService().implementation());
    const channel = await createControlChannelPki(mkdtempSync(join(tmpdir(), 'mtls-edge-grpc-')));
    const credentials = new ControlChannelCredentials({
      certPem: readFileSync(channel.certFile, 'utf8'),
      keyPem: readFileSync(channel.keyFile, 'utf8'),
      clientCaPem: channel.ca.certPem,
    });
    const port = await ads.listen({ host: '127.0.0.1', port: 0 }, credentials.credentials);
    const client = clientFor(port, channelCredentials(channel.ca.certPem, await channel.node('edge-1')));
    try {
      const res = await call(client, checkRequest({ route: 'route-x', cert: pki.alice }));
      assert.equal(res.status?.code, 7);
      assert.match(res.denied_response?.body ?? '', /not known to the control plane/);
    } finally {
      client.close();
      await ads.close();
    }
  });
});
