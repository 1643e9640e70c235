# rxtrade: build with the dev dependencies, run with the production ones only, as a non-root user.
#   docker build -t rxtrade .
#   docker compose up -d          (Postgres 15, Redis 7 and rxtrade: see docker-compose.yml)

# --- build: compile the TypeScript to dist/ -------------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY backtests ./backtests
COPY bench ./bench
COPY scripts ./scripts
RUN npm run build

# --- runtime -------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    RXTRADE_DATA_DIR=/app/data \
    RXTRADE_CONFIG_DIR=/app/config
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The demo bots and strategy files (mount your own over /app/config), and the trades the embedded
# simulator plays when no OKX_* URL is set.
COPY config ./config
COPY samples ./samples
# The data folder (PGlite without DATABASE_URL, spill and dead-letter files) belongs to the `node` user, and
# so does the code cache's (bin/load-bundle.cjs: a command's second run starts faster).
RUN mkdir -p /app/data /app/dist/bundle/cache && chown node:node /app/data /app/dist/bundle/cache
USER node
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Migrations run at start. SIGTERM (docker stop) flushes what the database has not taken yet and exits.
CMD ["node", "bin/rxtrade.js", "start"]
