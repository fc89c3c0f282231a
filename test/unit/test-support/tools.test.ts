import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { findOnPath, requireOpenssl } from '../../support/tools.js';

describe('tools the tests compare against are found on PATH, and their absence fails', () => {
  it('openssl is on this PATH and runs (the comparisons in the identity and pki tests need it)', () => {
    assert.match(execFileSync(requireOpenssl(), ['version'], { encoding: 'utf8' }), /SSL/);
  });

  it('without openssl on PATH, a test that needs it throws, saying how to install it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-tools-'));
    assert.throws(() => requireOpenssl({ PATH: empty }), /openssl is not on PATH .*apt-get install openssl/);
    assert.throws(() => requireOpenssl({}), /openssl is not on PATH/);
  });

  it(
    'the first executable file of that name wins; a non-executable ' + 'one, a folder or a relative entry do not count',
    () => {
      const [notExecutable, folder, good, later] = [0, 1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'tools-')));
      writeFileSync(join(notExecutable!, 'openssl'), '#!/bin/sh\n', { mode: 0o644 });
      chmodSync(join(notExecutable!, 'openssl'), 0o644);
      execFileSync('mkdir', [join(folder!, 'openssl')]);
      for (const dir of [good!, later!]) writeFileSync(join(dir, 'openssl'), '#!/bin/sh\n', { mode: 0o755 });
      const PATH = ['', '.', notExecutable, folder, good, later].join(delimiter);
      assert.equal(findOnPath('openssl', { PATH }), join(good!, 'openssl'));
    },
  );
});
