# The self-hosted API (Node entry) with its embedded libSQL file database under /data.
#   docker build -f infra/docker/api.Dockerfile -t ghcr.io/synthfleet/api:0.1.0 .
#   docker run -p 8787:8787 -v synthfleet:/data ghcr.io/synthfleet/api:0.1.0
# Documented, not tested here (no Docker engine); test/support/processes.ts runs the same entry.
FROM node:24-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts packages/contracts
COPY packages/db packages/db
COPY apps/api apps/api
RUN npm install --omit=dev --no-audit --no-fund --workspace apps/api --include-workspace-root=false \
    && npm cache clean --force
RUN mkdir /data && chown 65532:65532 /data
USER 65532:65532
ENV NODE_ENV=production SYNTHFLEET_DATA_DIR=/data HOST=0.0.0.0 PORT=8787
EXPOSE 8787
ENTRYPOINT ["node", "apps/api/src/entry/node.ts"]
