// The pattern Envoy's header_to_metadata filter rewrites the Cookie header with on signed-in routes (RE2, global
// replace). JavaScript's regular expressions read it alike (leftmost-first alternation, `^` and `$` at the ends of
// the text, no flags, whitespace spelled `[ \t]`), so the replacement is checked here case by case;
// test/e2e/sign-in.test.ts checks it through Envoy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionCookiesPattern } from '../../../control-plane/src/translate/http-filters/session-cookies.js';

const strip = (cookieName: string, header: string) =>
  header.replace(new RegExp(sessionCookiesPattern(cookieName), 'g'), '');

describe('the session-cookie pattern', () => {
  it('removes every session and flow cookie, wherever it is, and leaves the others joined as they were', () => {
    const cases: Array<[string, string]> = [
      ['_pomerium=h; _pomerium_exp=1; _pomerium_id=a.b.c; _pomerium_rt=r', ''],
      ['app=1; _pomerium=h; theme=dark; _pomerium_id=a.b.c', 'app=1; theme=dark'],
      ['_pomerium=h; _pomerium_id=a.b.c; app=1', 'app=1'],
      ['app=1; _pomerium_id=a.b.c', 'app=1'],
      ['_pomerium_csrf.0f3a=n.h; app=1; _pomerium_pkce.0f3a=v', 'app=1'],
      ['  _pomerium=h;app=1;  _pomerium_id=x', 'app=1'],
      ['\t_pomerium=h;\tapp=1;\t_pomerium_id=x', 'app=1'],
      ['app=1; theme=dark', 'app=1; theme=dark'],
      // Two Cookie headers, as Envoy joins them.
      ['app=1,_pomerium_id=a.b.c; theme=dark', 'app=1; theme=dark'],
    ];
    for (const [header, kept] of cases) assert.equal(strip('_pomerium', header), kept, header);
  });

  it('leaves look-alike names alone: another name, another case, the name inside another', () => {
    const header = '_pomeriumx=1; x_pomerium=2; _Pomerium=3; _pomerium-id=4; a=_pomerium=5';
    assert.equal(strip('_pomerium', header), header);
  });

  it('takes the whole value of a session cookie, commas and equals signs included', () => {
    assert.equal(strip('_pomerium', 'a=1; _pomerium_rt=x,y=z; b=2'), 'a=1; b=2');
  });

  it('reads a cookie name with regular-expression characters literally', () => {
    const name = "s.i+d$|*'`~!#%&^-";
    assert.equal(strip(name, `${name}=1; ${name}_id=2; app=3`), 'app=3');
    assert.equal(strip(name, 'sXi+d=1; app=3'), 'sXi+d=1; app=3');
    assert.equal(strip('a.b', 'aXb=1; a.b=2'), 'aXb=1');
  });
});
