# The Weft relay as a container: built from this repository, installed from its own packed
# packages (as an app installs them from a registry), run as a non-root user on /data.
#
#   docker build -t weft-relay .
#   docker run -p 8787:8787 -v weft-data:/data -e WEFT_AUTH=jwt -e WEFT_JWT_SECRET=… weft-relay
#
# Every flag has a WEFT_* variable (see `weft-relay --help`); arguments after the image name are
# passed to weft-relay.

FROM node:20-bookworm AS build
WORKDIR /src
RUN npm install --global --no-audit --no-fund pnpm@12.4.2
COPY . .
RUN pnpm install --frozen-lockfile \
  && pnpm build \
  && pnpm pack-packages /packs

FROM node:20-bookworm-slim AS relay
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /packs /packs
RUN echo '{ "name": "weft-relay-container", "private": true, "type": "module" }' > package.json \
  && npm install --omit=dev --no-audit --no-fund /packs/*.tgz \
  && rm -rf /packs \
  && npm cache clean --force \
  && mkdir /data \
  && chown node:node /data
USER node
VOLUME /data
EXPOSE 8787
ENV WEFT_HOST=0.0.0.0 WEFT_PORT=8787 WEFT_DATA=/data
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.WEFT_PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# weft-relay stops on SIGTERM: it stops accepting, closes sockets, flushes writes and closes the
# store before it exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/node_modules/.bin/weft-relay"]
