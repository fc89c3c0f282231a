import type { SignInModel } from '../../model/index.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import { luaLongString } from './lua-long-string.js';
import type { ChainContext, HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const SESSION_COOKIES_FILTER = 'mtls-edge.session-cookies' as const;
const SOURCE = 'session-cookies';

/**
 * The session's cookies stay at the edge. Envoy's oauth2 filter removes its HMAC, expiry and refresh-token cookies
 * from the request but hands the upstream the ID token's, decrypted: a JWT any upstream could read and present
 * elsewhere. This filter removes every cookie named `cookie_name` or `cookie_name_…` (the session's and the
 * flow's), after the ID token was validated, and leaves the application's own cookies as they were. On the routes
 * that need sign-in only: elsewhere the oauth2 filter is off and the cookies are an opaque, encrypted session.
 */
function sessionCookiesFilter(signIn: SignInModel): HttpFilter | undefined {
  if (signIn.provider === undefined) return undefined;
  const name = luaLongString(signIn.config.cookieName);
  const code = `
local NAME = ${name}
local PREFIX = NAME .. "_"
local function ours(pair)
  local cookie = string.match(pair, "^%s*([^=]*)")
  return cookie == NAME or string.sub(cookie, 1, #PREFIX) == PREFIX
end
function envoy_on_request(handle)
  local headers = handle:headers()
  local count = headers:getNumValues("cookie")
  if count == 0 then return end
  local kept = {}
  local removed = false
  -- HTTP/2 clients may send each cookie as a header of its own.
  for i = 0, count - 1 do
    for pair in string.gmatch(headers:getAtIndex("cookie", i), "[^;]+") do
      if ours(pair) then removed = true else kept[#kept + 1] = string.match(pair, "^%s*(.-)%s*$") end
    end
  end
  if not removed then return end
  if #kept == 0 then headers:remove("cookie") else headers:replace("cookie", table.concat(kept, "; ")) end
end
`;
  return {
    name: SESSION_COOKIES_FILTER,
    disabled: true,
    typed_config: typed('envoy.extensions.filters.http.lua.v3.Lua', {
      source_codes: { [SOURCE]: { inline_string: code } },
    }),
  };
}

function sessionCookiesPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.chain.signIn?.provider === undefined || ctx.kind !== 'host-route' || !ctx.route.signIn) return undefined;
  return typed('envoy.extensions.filters.http.lua.v3.LuaPerRoute', { name: SOURCE });
}

/** After the session's ID token was validated: nothing later reads the session's cookies. */
export const sessionCookies: HttpFilterModule<typeof SESSION_COOKIES_FILTER> = {
  name: SESSION_COOKIES_FILTER,
  connectionManagerEntry: (chain: ChainContext) => (chain.signIn ? sessionCookiesFilter(chain.signIn) : undefined),
  perRoute: sessionCookiesPerRoute,
};
