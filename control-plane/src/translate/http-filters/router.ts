import { typed } from '../../envoy-api/index.js';
import type { HttpFilter, HttpFilterModule } from './types.js';

export const ROUTER_FILTER = 'envoy.filters.http.router' as const;

function routerFilter(): HttpFilter {
  return {
    name: 'envoy.filters.http.router',
    typed_config: typed('envoy.extensions.filters.http.router.v3.Router', {}),
  };
}

/** Envoy requires the router last: it sends the request upstream (or gives the route's direct response). */
export const router: HttpFilterModule<typeof ROUTER_FILTER> = {
  name: ROUTER_FILTER,
  connectionManagerEntry: () => routerFilter(),
};
