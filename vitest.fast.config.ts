import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { configDefaults, defineConfig } from 'vitest/config'

/**
 * The fast lane (`pnpm test:fast`, under a minute on two cores): the projects of vitest.config.ts
 * without the Chromium tests (`*.browser.test.ts`) and without the slow files listed here, each
 * for its reason. `pnpm test` runs everything. A new test that spawns a process, injects faults,
 * soaks or replays a long run goes on this list.
 */
const SLOW_TESTS = [
  // They spawn processes: relays killed and restarted, CLIs, packed installs, child clients.
  'apps/relay/test/cluster.awareness.process.test.ts',
  'apps/relay/test/cluster.postgres.process.test.ts',
  'apps/relay/test/cluster.process.test.ts',
  'apps/relay/test/cluster.reliability.test.ts',
  'apps/relay/test/cluster.redis.process.test.ts',
  'apps/relay/test/crash-check.test.ts',
  'apps/relay/test/docs-command.test.ts',
  'apps/relay/test/encryption.relay.test.ts',
  'apps/relay/test/installed-app.test.ts',
  'apps/relay/test/log-hygiene.test.ts',
  'apps/relay/test/migrate-command.process.test.ts',
  'apps/relay/test/migrate-command.test.ts',
  'apps/relay/test/otlp-export.process.test.ts',
  'apps/relay/test/postgres-store.process.test.ts',
  'apps/relay/test/protocol-fuzz.test.ts',
  'apps/relay/test/redis-bus.process.test.ts',
  'apps/relay/test/reencrypt-command.test.ts',
  'apps/relay/test/relay.process.test.ts',
  'apps/relay/test/set-check.test.ts',
  'apps/relay/test/tls.test.ts',
  'bench/test/smoke.test.ts',
  'packages/client/test/client.restart-offline.test.ts',
  'packages/client-sqlite/test/client.sqlite.test.ts',
  // Seconds of real sockets each: documents of megabytes synced and compressed, a throttled
  // socket, the lifecycle's keep-alive and quiet periods.
  'packages/server/test/compression.test.ts',
  'packages/server/test/join-frames.test.ts',
  'packages/client/test/client.lifecycle.test.ts',
  'packages/client/test/client.reconnect-bytes.test.ts',
  'packages/client/test/client.large-transfers.test.ts',
  'packages/client/test/client.provider-bind.test.ts',
  // Token verification with JWKS over HTTP and expiry waits, webhook deliveries with retries,
  // revocations reloaded from the store: seconds of waiting each.
  'packages/server/test/auth.test.ts',
  'packages/server/test/webhooks.test.ts',
  'packages/server/test/relay.revocations.test.ts',
  // Clients reconnecting through backoff waits and policy timers on a real relay.
  'packages/client/test/client.policies.test.ts',
  'packages/client/test/client.reconnect.test.ts',
  // The relay's traces through a real relay and webhook receiver, and the OTLP exporter's
  // modules (the OpenTelemetry SDK takes seconds to import).
  'packages/server/test/tracing.services.test.ts',
  'packages/server/test/tracing.device.test.ts',
  'packages/server/test/tracing.admin.test.ts',
  'apps/relay/test/otlp-tracing.test.ts',
  'apps/relay/test/webhook-metrics.test.ts',
  // Real relays under hostile input, the HTTP API and the client's observability hooks: the
  // socket tests of the fast lane that took longest.
  'packages/server/test/http-api.test.ts',
  'packages/server/test/pathological-updates.test.ts',
  'packages/client/test/client.observability.test.ts',
  'packages/client/test/client.metrics.test.ts',
  'packages/server/test/bad-input.test.ts',
  'bench/test/latency-link.test.ts',
  'packages/react/test/react-version.test.ts',
  'packages/service-client/test/feed-consumer.crash.test.ts',
  'packages/store-level/test/light-entry.test.ts',
  'packages/store-postgres/test/light-entry.test.ts',
  // The PostgreSQL store's conformance runs (three variants on a real server, about 9 s).
  'packages/store-postgres/test/postgres-store.conformance.test.ts',
  // They inject faults or races: a faulty network, full disks, the seeded simulation, engine
  // outages, dropped bus messages, several stores racing on one PostgreSQL.
  'apps/relay/test/metrics.bus.test.ts',
  // A webhook receiver failing every delivery, clients repairing a refused edit (about 3 s).
  'apps/relay/test/metrics.conflicts.test.ts',
  // Appends held in a store, a log compacted on a relay app, feed consumers over HTTP (about 1 s).
  'apps/relay/test/metrics.drift.test.ts',
  'packages/server/test/relay.drift.test.ts',
  // promtool checks and unit-tests the alert rules (installed with apt-get when missing).
  'apps/relay/test/ops-prometheus.test.ts',
  // Scrapes a relay app with failing webhooks for every metric the dashboard and rules query.
  'apps/relay/test/ops-grafana.test.ts',
  // Two clients writing one field concurrently on a real relay.
  'packages/server/test/metrics.conflicts.test.ts',
  'packages/bus-redis/test/outage.test.ts',
  'packages/bus-redis/test/quiet.test.ts',
  'packages/bus-redis/test/revocations.test.ts',
  'packages/store-postgres/test/exclusive-lock.test.ts',
  'packages/store-postgres/test/postgres-store.close.test.ts',
  'packages/store-postgres/test/postgres-store.reencrypt.test.ts',
  'packages/store-postgres/test/postgres-store.revocations.test.ts',
  'packages/store-postgres/test/postgres-store.relays.test.ts',
  'packages/store-postgres/test/postgres-store.incarnation.test.ts',
  'packages/bus-redis/test/relays.test.ts',
  'packages/bus-redis/test/ahead.test.ts',
  'packages/client/test/client.faults.test.ts',
  'packages/testkit/test/disk-full-check.test.ts',
  'packages/store-postgres/test/postgres-store.restart.test.ts',
  'packages/testkit/test/simulation.test.ts',
  // Soak and long runs: hundreds of clients or thousands of sockets, long traces, floods, tokens
  // living their real seconds, the longest property and conformance runs.
  'packages/client/test/client.token-refresh.test.ts',
  // The whole automerge-paper trace typed offline over LevelDB, two restarts, then a relay (15 to 25 s).
  'packages/client/test/client.long-offline.test.ts',
  'packages/doc/test/change-events.prop.test.ts',
  'packages/testkit/test/doc-stores.encrypted.conformance.test.ts',
  'packages/client/test/client.reconnect-storm.test.ts',
  'packages/server/test/limits.throttle.test.ts',
  'packages/server/test/relay.trusted-proxies.test.ts',
  'packages/server/test/trace.replay.test.ts',
  'packages/server/test/y-websocket.fast-writer.test.ts',
  'packages/store-level/test/long-log.test.ts',
  'packages/store-postgres/test/postgres-store.long-log.test.ts',
  // @weft/react's hooks against a real relay's sockets, each file run twice (React 19 and 18).
  'packages/react/test/use-conflicts.test.ts',
  'packages/react/test/use-doc.test.ts',
  'packages/react/test/use-editor-doc.test.ts',
  'packages/react/test/use-model.test.ts',
  'packages/react/test/use-presence.test.ts',
  'packages/react/test/use-records.test.ts',
  'packages/react/test/use-sync-status.test.ts',
  'packages/react/test/use-unsaved-changes-guard.test.ts',
]

const here = import.meta.dirname

// A listed file that was renamed or removed would leave its new name in the fast lane unnoticed.
const gone = SLOW_TESTS.filter((path) => !existsSync(join(here, path)))
if (gone.length > 0)
  throw new Error(`vitest.fast.config.ts lists missing tests: ${gone.join(', ')}`)

/**
 * The directories vitest.config.ts makes projects of: `packages/*`, `apps/*`, `bench`, and
 * `packages/react/react-18` (@weft/react's tests on React 18).
 */
const projectRoots = [
  ...['packages', 'apps'].flatMap((parent) =>
    readdirSync(join(here, parent)).map((name) => `${parent}/${name}`),
  ),
  'packages/react/react-18',
  'bench',
].filter((root) => existsSync(join(here, root, 'package.json')))

/** Where a project's tests are when not under its root: React 18 runs @weft/react's tests. */
const TEST_DIRS: Readonly<Record<string, string>> = {
  'packages/react/react-18': 'packages/react/test',
}

const packageName = (root: string): string =>
  (JSON.parse(readFileSync(join(here, root, 'package.json'), 'utf8')) as { name: string }).name

export default defineConfig({
  test: {
    // Every core: the default leaves one to the main process, which idles in a run this short.
    maxWorkers: availableParallelism(),
    projects: projectRoots.map((root) => ({
      // A project's own config (React 18's aliases) applies in this lane too.
      ...(existsSync(join(here, root, 'vitest.config.ts'))
        ? { extends: join(here, root, 'vitest.config.ts') }
        : {}),
      root,
      test: {
        name: packageName(root),
        exclude: [
          ...configDefaults.exclude,
          '**/*.browser.test.ts',
          ...SLOW_TESTS.filter((path) => path.startsWith(`${TEST_DIRS[root] ?? root}/`)).map(
            (path) => path.slice((TEST_DIRS[root] ?? root).length + 1),
          ),
        ],
      },
    })),
  },
})
