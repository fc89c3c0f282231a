// Command envoy-api writes the Envoy API the control plane loads, taken from the descriptors that
// go-control-plane (pinned in go.mod to the Envoy version in envoy/VERSION) embeds in its generated code:
//
//	protos/envoy-api.binpb       FileDescriptorSet: every resource and filter config the edge emits (protobufjs)
//	protos/envoy-services.binpb  FileDescriptorSet: the ADS and ext_authz services (@grpc/proto-loader)
//	control-plane/src/envoy-api/generated/*.ts  TypeScript types of the messages the edge emits
//
// Output is deterministic: the same module version always gives the same bytes (scripts/generate-envoy-api.sh
// --check relies on it).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// Every package whose messages the edge emits (resources, filter configs, matcher inputs), and the services.
	_ "github.com/cncf/xds/go/xds/type/matcher/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_to_metadata/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/principals/mtls_authenticated/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

// resourceRoots: the xDS resources and every message the edge puts in an `Any` (typed_config, matcher actions).
var resourceRoots = []protoreflect.FullName{
	"envoy.config.listener.v3.Listener",
	"envoy.config.route.v3.RouteConfiguration",
	"envoy.config.cluster.v3.Cluster",
	"envoy.extensions.transport_sockets.tls.v3.Secret",
	"envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
	"envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
	"envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
	"envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
	"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
	"envoy.extensions.filters.http.router.v3.Router",
	"envoy.extensions.filters.http.set_filter_state.v3.Config",
	"envoy.extensions.filters.http.lua.v3.Lua",
	"envoy.extensions.filters.http.lua.v3.LuaPerRoute",
	"envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
	"envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute",
	"envoy.extensions.filters.http.header_to_metadata.v3.Config",
	"envoy.extensions.filters.http.rbac.v3.RBAC",
	"envoy.extensions.filters.http.rbac.v3.RBACPerRoute",
	"envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
	"envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute",
	"envoy.extensions.filters.http.oauth2.v3.OAuth2",
	"envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
	"envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig",
	"envoy.config.route.v3.FilterConfig",
	"envoy.extensions.rbac.principals.mtls_authenticated.v3.Config",
	"envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
	"envoy.extensions.matching.common_inputs.network.v3.ServerNameInput",
	"xds.type.matcher.v3.ServerNameMatcher",
	"google.protobuf.StringValue",
}

// serviceRoots: what proto-loader needs for the gRPC services the control plane serves.
var serviceRoots = []protoreflect.FullName{
	"envoy.service.discovery.v3.AggregatedDiscoveryService",
	"envoy.service.auth.v3.Authorization",
}

func main() {
	out := flag.String("out", ".", "repository root to write into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "envoy-api:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	resources, err := closure(resourceRoots)
	if err != nil {
		return err
	}
	services, err := closure(serviceRoots)
	if err != nil {
		return err
	}
	if err := writeSet(filepath.Join(out, "protos", "envoy-api.binpb"), resources); err != nil {
		return err
	}
	if err := writeSet(filepath.Join(out, "protos", "envoy-services.binpb"), services); err != nil {
		return err
	}
	return writeTypeScript(filepath.Join(out, "control-plane", "src", "envoy-api", "generated"), resources.sortedMessages())
}

func findDescriptor(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is its Go package imported?)", name, err)
	}
	return d, nil
}
