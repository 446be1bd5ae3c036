# syntax=docker/dockerfile:1
# The image of one app, chosen by the APP build argument (gateway, order-command, inventory, order-query).
# Build from the repository root (the context holds the workspace):
#   docker build --build-arg APP=order-command -t orderflow/order-command .
# Production runs the esbuild bundle with node (no tsx, no TypeScript, no dev dependencies).
# The stages up to `runtime` are the same for every app; the last one, named after the app, adds what differs
# (listen address, ports, health check, command) and is picked by `FROM ${APP}` at the end.
ARG APP

# 1. The npm manifests only: the dependency layers below stay cached while sources change.
FROM node:20-bookworm-slim AS manifests
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -type f -print \
  | xargs cp --parents -t /manifests

# 2. Bundle apps/${APP} and the workspace libs it imports into dist/apps/${APP}/main.js.
FROM node:20-bookworm-slim AS build
ARG APP
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund -w tools/deploy-checks -w apps/${APP} -w libs
COPY tsconfig.base.json ./
COPY libs/ libs/
COPY apps/${APP}/ apps/${APP}/
COPY tools/deploy-checks/build-app.mjs tools/deploy-checks/
RUN node tools/deploy-checks/build-app.mjs ${APP}

# 3. Runtime: production dependencies of the app and the libs, the bundle, a non-root user.
FROM node:20-bookworm-slim AS runtime
ARG APP
ENV NODE_ENV=production
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w apps/${APP} -w libs \
 && npm cache clean --force
COPY --from=build /app/dist/apps/${APP}/ dist/apps/${APP}/
COPY tools/deploy-checks/grpc-health.cjs ./
# uid 1000 is the image's "node" user; numeric, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# Drains on SIGTERM within 25 s (libs/service-kit runUntilSignal); node runs as PID 1 and handles it.
STOPSIGNAL SIGTERM

# 4. Per app.
FROM runtime AS gateway
ENV GATEWAY_HOST=0.0.0.0
# REST API, with Prometheus metrics at /metrics
EXPOSE 8080
# Liveness only (/healthz): readiness (/readyz) depends on the downstreams and belongs to the orchestrator.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GATEWAY_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/apps/gateway/main.js"]

# The gRPC services: the standard gRPC health check (SERVING); start-period covers migrations at start.
FROM runtime AS order-command
ENV ORDER_COMMAND_GRPC_HOST=0.0.0.0 \
    ORDER_COMMAND_METRICS_HOST=0.0.0.0
# gRPC, and Prometheus metrics (GET /metrics)
EXPOSE 50051 9451
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "grpc-health.cjs", "ORDER_COMMAND_GRPC_PORT", "50051"]
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/apps/order-command/main.js"]

FROM runtime AS inventory
ENV INVENTORY_GRPC_HOST=0.0.0.0 \
    INVENTORY_METRICS_HOST=0.0.0.0
EXPOSE 50052 9452
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "grpc-health.cjs", "INVENTORY_GRPC_PORT", "50052"]
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/apps/inventory/main.js"]

FROM runtime AS order-query
ENV ORDER_QUERY_GRPC_HOST=0.0.0.0 \
    ORDER_QUERY_METRICS_HOST=0.0.0.0
EXPOSE 50053 9453
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "grpc-health.cjs", "ORDER_QUERY_GRPC_PORT", "50053"]
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/apps/order-query/main.js"]

# 5. The image: the stage of the app named by --build-arg APP (BuildKit builds only the stages it needs).
# hadolint ignore=DL3006
FROM ${APP}
