# The node agent: one esbuild bundle (apps/agent/dist/agent.cjs) on Node 24 slim, plus the system
# ping for the ping probe. Build from the repository root:
#   docker build -f infra/docker/agent.Dockerfile -t ghcr.io/synthfleet/agent:0.1.0 .
# No Docker engine runs on the development machines, so this file is documented, not tested; the
# bundle it ships is built and run by test/agent-bundle.test.ts and bench/heartbeat.ts.
FROM node:24-slim AS build
WORKDIR /src
COPY . .
RUN npm install --no-audit --no-fund && npm run build:agent

FROM node:24-slim
RUN apt-get update && apt-get install -y --no-install-recommends iputils-ping \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/apps/agent/dist/agent.cjs /app/agent.cjs
USER 65532:65532
# Memory settings for a mostly idle process; scripts/build-agent.ts explains them and the
# heartbeat benchmark runs the bundle with the same ones.
ENV NODE_ENV=production GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=131072
EXPOSE 8080
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/agent.cjs"]
