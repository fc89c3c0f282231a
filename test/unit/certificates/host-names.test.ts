import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  comparableHostName,
  isHostName,
  isMailAddress,
  normaliseHostName,
} from '../../../control-plane/src/certificates/host-names.js';

describe('host names and mail addresses as certificates carry them', () => {
  it('a host name is LDH labels joined by dots: no comma, wildcard, U-label, look-alike or white space', () => {
    for (const ok of ['victim.ex', 'a', 'A-1.b2.EXAMPLE', 'xn--bcher-kva.example', '1.2.3.4', 'a--b.c'])
      assert.ok(isHostName(ok), ok);
    const refused = [
      'evil.ex,victim.ex',
      '*.victim.ex',
      'bücher.example',
      'victim.ex.',
      '.victim.ex',
      'a..b',
      '-a.b',
      'a-.b',
      'a_b.c',
      'a b.c',
      '',
      'victim.\u0435x', // Cyrillic е
      'ｖictim.ex', // fullwidth v
      'victim\u3002ex', // ideographic full stop, which IDNA maps to "."
      '\u212Aelvin.ex', // Kelvin sign, which Unicode case folding takes for "k"
      'victim.ex\0',
      'victim.ex\n',
    ];
    for (const no of refused) assert.ok(!isHostName(no), JSON.stringify(no));
    assert.equal(comparableHostName('WWW.Victim.EX'), 'www.victim.ex');
    assert.equal(comparableHostName('evil.ex,victim.ex'), undefined);
  });

  it('a mail address is a dot-atom, "@", a host name', () => {
    for (const ok of [
      'alice@example.com',
      "o'neil+tag@Sub.Example.org",
      "!#$%&'*+-/=?^_`{|}~@x",
      'a.b.c@d',
      'bob@xn--bcher-kva.example',
    ])
      assert.ok(isMailAddress(ok), ok);
    const refused = [
      'x,CN=alice@example.com',
      'alice@example.com,mallory@evil.com',
      '"alice"@example.com',
      '"a,b"@x.example',
      'a b@x',
      ' a@x',
      'a@x ',
      'a@b@c',
      '@x',
      'a@',
      'a..b@x',
      '.a@x',
      'a.@x',
      'a@[192.0.2.1]',
      'jürgen@example.com',
      'a@bücher.example',
      'a@x.',
      'a\0@x',
      'a@x\0',
      'a\n@x',
      'a;b@x',
      'a<b>@x',
      'a\\b@x',
      'a(b)@x',
      'a:b@x',
      'a@exаmple.com',
    ];
    for (const no of refused) assert.ok(!isMailAddress(no), JSON.stringify(no));
  });

  it('policy values: lower case, A-labels, U-labels only in normal form, pieces only in ASCII', () => {
    const ok: Array<[string, Parameters<typeof normaliseHostName>[1], string]> = [
      ['Victim.EX', 'whole', 'victim.ex'],
      ['victim.ex.', 'whole', 'victim.ex'],
      ['Bücher.Example', 'whole', 'xn--bcher-kva.example'],
      ['straße.example', 'whole', 'xn--strae-oqa.example'],
      ['XN--BCHER-KVA.example', 'whole', 'xn--bcher-kva.example'],
      ['.bücher.example', 'end', '.xn--bcher-kva.example'],
      ['ample.COM', 'end', 'ample.com'],
      ['bücher.', 'start', 'xn--bcher-kva.'],
      ['Host-', 'start', 'host-'],
      ['-7.corp.', 'inside', '-7.corp.'],
    ];
    for (const [value, part, want] of ok)
      assert.deepEqual(normaliseHostName(value, part), { value: want }, `${value} ${part}`);
    const refused: Array<[string, Parameters<typeof normaliseHostName>[1]]> = [
      ['evil.ex,victim.ex', 'whole'],
      ['*.example', 'whole'],
      ['a..b', 'whole'],
      ['xn--zz.example', 'whole'],
      ['ｖictim.ex', 'whole'],
      ['victim\u3002ex', 'whole'],
      ['e\u0301.example', 'whole'],
      ['\u212Aelvin.ex', 'whole'],
      ['a'.repeat(64) + '.ex', 'whole'],
      [`${'a.'.repeat(126)}ab`, 'whole'],
      ['bücher.example', 'end'],
      ['ürg', 'inside'],
      ['büch', 'start'],
      ['a_b', 'inside'],
      ['a,b', 'end'],
    ];
    for (const [value, part] of refused)
      assert.ok('error' in normaliseHostName(value, part), `${JSON.stringify(value)} ${part}`);
  });
});
