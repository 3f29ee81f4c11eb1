# The syncer, run from its sources with Node 24's type stripping and its production dependencies.
#   docker build -f infra/docker/syncer.Dockerfile -t ghcr.io/synthfleet/syncer:0.1.0 .
# Documented, not tested here (no Docker engine); test/syncer-file.test.ts runs the same entry.
FROM node:24-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts packages/contracts
COPY apps/syncer apps/syncer
RUN npm install --omit=dev --no-audit --no-fund --workspace apps/syncer --include-workspace-root=false \
    && npm cache clean --force
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 8081
ENTRYPOINT ["node", "apps/syncer/src/main.ts"]
