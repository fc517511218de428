# syntax=docker/dockerfile:1
# Tresor cli — build from the repository root:
#   docker build -f deploy/docker/cli.Dockerfile -t tresor/cli:0.1.0 .
# Stage 1 installs every dependency and bundles the app (workspace libs included) into one file;
# stage 2 keeps only the production dependencies the bundle imports (pruned per app); the runtime
# stage holds neither sources nor build tools and runs as an unprivileged user on a read-only root
# filesystem.
FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund && node scripts/bundle.mjs cli /out

FROM build AS prod-deps
# Production dependencies only, and of those only the packages this app's bundle imports with
# everything they depend on (scripts/prune-deps.mjs; the list is /out/cli/externals.json).
RUN npm prune --omit=dev --no-audit --no-fund && node scripts/prune-deps.mjs /out/cli/externals.json /src /deps

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    TRESOR_REPO=/data/repository \
    XDG_DATA_HOME=/data
WORKDIR /app
COPY --from=prod-deps /deps/node_modules ./node_modules
COPY --from=build /out/cli/ ./
RUN install -d -o 1000 -g 1000 -m 0700 /data
VOLUME ["/data"]
USER 1000:1000
# A CLI run is one command, not a server: the health check only proves the bundle loads.
HEALTHCHECK --interval=60s --timeout=10s CMD ["node", "/app/main.mjs", "--version"]
ENTRYPOINT ["node", "--enable-source-maps", "/app/main.mjs"]
CMD ["--help"]
