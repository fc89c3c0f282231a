/**
 * What to do about a missing or refused client certificate, in the words every page of the edge uses: the 403
 * and 495 pages (translate/) and the ext_authz service's denials (authz/).
 */
export const INSTALL_CERTIFICATE_TEXT =
  'Install the client certificate you were given (a .p12 file) in your browser or operating system, then open this ' +
  'page again (you may need to restart the browser).';
