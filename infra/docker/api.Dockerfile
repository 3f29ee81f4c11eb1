# The self-hosted API (Node entry) with its embedded libSQL file database under /data: one esbuild
# bundle (apps/api/dist/api.cjs, with the migrations beside it) on Node 24 slim; only libSQL's
# native engine is installed from npm. Build from the repository root:
#   docker build -f infra/docker/api.Dockerfile -t ghcr.io/synthfleet/api:0.1.0 .
#   docker run -p 8787:8787 -v synthfleet:/data ghcr.io/synthfleet/api:0.1.0
# Documented, not tested here (no Docker engine); test/api-bundle.test.ts builds and runs the same
# bundle with the same settings, and the benchmarks run it.
FROM node:24-slim AS build
WORKDIR /src
COPY . .
RUN npm install --no-audit --no-fund && npm run build:api

FROM node:24-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts packages/contracts
COPY packages/db packages/db
COPY apps/api/package.json apps/api/package.json
RUN npm install --omit=dev --no-audit --no-fund --workspace apps/api --include-workspace-root=false \
    && npm cache clean --force
COPY --from=build /src/apps/api/dist apps/api/dist
RUN mkdir /data && chown 65532:65532 /data
USER 65532:65532
# One malloc arena and eager trimming (scripts/build-api.ts explains them; the benchmarks run the
# bundle with the same ones).
ENV NODE_ENV=production SYNTHFLEET_DATA_DIR=/data HOST=0.0.0.0 PORT=8787 \
    GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=131072
EXPOSE 8787
ENTRYPOINT ["node", "apps/api/dist/api.cjs"]
