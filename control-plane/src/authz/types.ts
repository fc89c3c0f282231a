import type { AuthorizationRoute } from '../model/index.js';

// The model builds these routes with each snapshot (model/authorization.ts); the service reads them.
export type { AuthorizationRoute };

/** Every route Envoy may ask about, rebuilt with each snapshot. */
export type AuthorizationTable = ReadonlyMap<string, AuthorizationRoute>;
