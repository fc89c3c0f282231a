import { parsePrivateKey, pemBlocks } from '../certificates/index.js';
import type { Diagnostics, Location } from '../source/diagnostics.js';
import type { MapValue } from '../source/fields.js';
import { readInlineOrFile, type FileAccess } from './inputs.js';
import type { SigningKeyInput } from './types.js';

const EXPECTED =
  'expected base64 of a PEM EC P-256 private key (e.g. openssl ecparam -genkey -name prime256v1 | base64 -w0)';

/**
 * `signing_key` (SIGNING_KEY), as Pomerium takes it: base64 of PEM text (the PEM itself is taken too), or
 * `signing_key_file` (SIGNING_KEY_FILE): a file of PEM text. The text holds one or more EC P-256 private keys:
 * the first signs the X-Pomerium-Jwt-Assertion (ES256), and every one is published in the JWKS. Rotating is
 * then an edit every replica reads alike: put the new key first, keep the old one after it for as long as the
 * JWTs it signed live, then drop it. Keys are kept as PKCS#8 PEM; messages never show them.
 */
export function readSigningKey(root: MapValue, files: FileAccess, diag: Diagnostics): SigningKeyInput | undefined {
  const input = readInlineOrFile(root, 'signing_key', 'signing_key_file', files, diag);
  if (!input) return undefined;
  const blocks = pemBlocks(input.text).filter((b) => b.type.endsWith('PRIVATE KEY'));
  const texts = blocks.length > 1 ? blocks.map((b) => b.pem) : [input.text];
  const keys: string[] = [];
  for (const [i, text] of texts.entries()) {
    const key = readOneKey(text, input.at, diag, texts.length > 1 ? `key ${i + 1} of ${texts.length}: ` : '');
    if (key === undefined) return undefined;
    if (!keys.includes(key)) keys.push(key);
  }
  const [pem, ...others] = keys;
  return pem === undefined ? undefined : { pem, others, at: input.at };
}

function readOneKey(text: string, at: Location, diag: Diagnostics, which: string): string | undefined {
  const parsed = parsePrivateKey(text);
  if ('error' in parsed) {
    diag.error(at, `${which}${EXPECTED}: ${parsed.error}`);
    return undefined;
  }
  const key = parsed.key;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const got =
      key.asymmetricKeyType === 'ec'
        ? `an EC key on curve ${curve ?? 'unknown'}`
        : `a${key.asymmetricKeyType === 'rsa' ? 'n' : ''} ${key.asymmetricKeyType ?? 'unknown'} key`;
    diag.error(at, `${which}must be an EC P-256 (prime256v1) private key, as ES256 needs; got ${got}`);
    return undefined;
  }
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
