# syntax=docker/dockerfile:1
# Tresor gateway — build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t tresor/gateway:0.1.0 .
# Stage 1 installs every dependency and bundles the app (workspace libs included) into one file;
# stage 2 keeps only the production dependencies the bundle imports (pruned per app); the runtime
# stage holds neither sources nor build tools and runs as an unprivileged user on a read-only root
# filesystem.
FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The ops console (docs/console.md) is built into the bundle's directory: /app/console at run time.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund && node scripts/bundle.mjs gateway /out && \
    node node_modules/vite/bin/vite.js build --config apps/console/vite.config.ts --outDir /out/gateway/console --emptyOutDir --logLevel warn

FROM build AS prod-deps
# Production dependencies only, and of those only the packages this app's bundle imports with
# everything they depend on (scripts/prune-deps.mjs; the list is /out/gateway/externals.json).
RUN npm prune --omit=dev --no-audit --no-fund && node scripts/prune-deps.mjs /out/gateway/externals.json /src /deps

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    TRESOR_HTTP_HOST=0.0.0.0 \
    TRESOR_HTTP_PORT=8420 \
    TRESOR_CONSOLE_DIR=/app/console
WORKDIR /app
COPY --from=prod-deps /deps/node_modules ./node_modules
COPY --from=build /out/gateway/ ./
COPY deploy/docker/healthcheck.mjs ./healthcheck.mjs

# The node user (uid 1000) of the base image; only mounted volumes and /tmp need to be writable.
USER 1000:1000
EXPOSE 8420
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs", "/health/ready"]
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "/app/main.mjs"]
