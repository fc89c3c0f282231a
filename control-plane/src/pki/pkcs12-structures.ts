// The ASN.1 structures of a PKCS#12 file that @peculiar/asn1-pfx and its siblings do not declare: the PBES2 and
// PBKDF2 parameters (RFC 8018 A.2, A.4), the PKCS#12 PBE parameters (RFC 7292 Appendix C) and CMS EncryptedData
// (RFC 5652 §8). Declared with @peculiar/asn1-schema's property decorators, applied as plain calls.
import { EncryptedContentInfo } from '@peculiar/asn1-cms';
import { AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/** PBKDF2-params without keyLength (OpenSSL leaves it out for fixed-size ciphers). */
export class Pbkdf2Params {
  salt = new OctetString();
  iterationCount = 0;
  prf = new AlgorithmIdentifier();
  constructor(params: Partial<Pbkdf2Params> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: OctetString })(Pbkdf2Params.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer })(Pbkdf2Params.prototype, 'iterationCount');
AsnProp({ type: AlgorithmIdentifier })(Pbkdf2Params.prototype, 'prf');

export class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
  constructor(params: Partial<Pbes2Params> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'keyDerivationFunc');
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'encryptionScheme');

/** pkcs-12PbeParams: the salt and iteration count of the legacy PBE schemes. */
export class PbeParams {
  salt = new OctetString();
  iterations = 0;
  constructor(params: Partial<PbeParams> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: OctetString })(PbeParams.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer })(PbeParams.prototype, 'iterations');

/** CMS EncryptedData without unprotectedAttrs. */
export class EncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
  constructor(params: Partial<EncryptedData> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: AsnPropTypes.Integer })(EncryptedData.prototype, 'version');
AsnProp({ type: EncryptedContentInfo })(EncryptedData.prototype, 'encryptedContentInfo');
