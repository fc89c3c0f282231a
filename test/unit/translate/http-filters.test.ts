import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { luaLongString } from '../../../control-plane/src/translate/http-filters/lua-long-string.js';

describe('luaLongString', () => {
  it('picks a bracket level the text cannot close, so a CA name cannot inject Lua', () => {
    assert.equal(luaLongString('CN=Test CA A'), '[=[CN=Test CA A]=]');
    assert.equal(luaLongString('CN=x]=] .. os.exit() .. [=['), '[==[CN=x]=] .. os.exit() .. [=[]==]');
    assert.equal(luaLongString('a]=]b]==]c'), '[===[a]=]b]==]c]===]');
    assert.equal(luaLongString('CN=foo]='), '[==[CN=foo]=]==]', 'a trailing "]=" must not meet the closing "]"');
  });
});
