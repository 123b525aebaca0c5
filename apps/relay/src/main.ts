#!/usr/bin/env node
/**
 * The relay's command line: parse config, log JSON with pino, start, and stop cleanly on signals;
 * or, as `relay reencrypt`, re-encrypt a stopped relay's data directory or the PostgreSQL
 * database relays share; or, as `relay docs`,
 * list, inspect, export, import, delete and compact its documents; or, as `relay migrate`, copy
 * it into PostgreSQL; or, as `relay revoke`, add, list and lift token revocations on a running relay.
 */
import { pino } from 'pino'
import type { Logger } from '@weft/server'
import { parseCommand } from './config.js'
import { parseDocsCommand, runDocsCommand } from './docs-command.js'
import { parseMigrateCommand, runMigrateCommand } from './migrate-command.js'
import { parseReencryptCommand, runReencryptCommand } from './reencrypt-command.js'
import { readEncryptionKeys, startRelayServer } from './relay-server.js'
import { parseRevokeCommand, runRevokeCommand } from './revoke-command.js'
import { startOtlpTracing } from './otlp-tracing.js'

const argv = process.argv.slice(2)
if (argv[0] === 'docs') {
  const docs = parseDocsCommand(argv.slice(1), process.env)
  if (docs.kind === 'help') console.log(docs.text)
  if (docs.kind === 'invalid') console.error(`weft docs: ${docs.message}`)
  process.exit(
    docs.kind === 'docs'
      ? await runDocsCommand(docs, {
          readKeys: readEncryptionKeys,
          out: (data) =>
            new Promise<void>((resolve) => process.stdout.write(data, () => resolve())),
          err: (line) => console.error(`weft docs: ${line}`),
        })
      : docs.kind === 'help'
        ? 0
        : 2,
  )
}
if (argv[0] === 'revoke') {
  const revoke = parseRevokeCommand(argv.slice(1), process.env)
  if (revoke.kind === 'help') console.log(revoke.text)
  if (revoke.kind === 'invalid') console.error(`weft revoke: ${revoke.message}`)
  process.exit(
    revoke.kind === 'revoke'
      ? await runRevokeCommand(revoke, {
          out: (text) => process.stdout.write(text),
          err: (line) => console.error(`weft revoke: ${line}`),
        })
      : revoke.kind === 'help'
        ? 0
        : 2,
  )
}
/** JSON lines on stdout through pino, as the `Logger` library code takes. */
const jsonLogger = (level: string): Logger => {
  const log = pino({ level, base: { service: 'weft-relay' } })
  return {
    debug: (message, context) => log.debug(context ?? {}, message),
    info: (message, context) => log.info(context ?? {}, message),
    warn: (message, context) => log.warn(context ?? {}, message),
    error: (message, context) => log.error(context ?? {}, message),
  }
}

if (argv[0] === 'migrate') {
  const migrate = parseMigrateCommand(argv.slice(1), process.env)
  if (migrate.kind === 'help') console.log(migrate.text)
  if (migrate.kind === 'invalid') console.error(`weft migrate: ${migrate.message}`)
  process.exit(
    migrate.kind === 'migrate'
      ? await runMigrateCommand(migrate.config, {
          readKeys: readEncryptionKeys,
          logger: jsonLogger(process.env['WEFT_LOG_LEVEL'] || 'info'),
        })
      : migrate.kind === 'help'
        ? 0
        : 2,
  )
}
if (argv[0] === 'reencrypt') {
  const reencrypt = parseReencryptCommand(argv.slice(1), process.env)
  if (reencrypt.kind === 'help') console.log(reencrypt.text)
  if (reencrypt.kind === 'invalid') console.error(`weft reencrypt: ${reencrypt.message}`)
  // SIGINT or SIGTERM stop it after the batch in progress.
  const stopping = new AbortController()
  process.once('SIGINT', () => stopping.abort()).once('SIGTERM', () => stopping.abort())
  process.exit(
    reencrypt.kind === 'reencrypt'
      ? await runReencryptCommand(reencrypt.config, {
          readKeys: readEncryptionKeys,
          logger: jsonLogger(process.env['WEFT_LOG_LEVEL'] || 'info'),
          signal: stopping.signal,
        })
      : reencrypt.kind === 'help'
        ? 0
        : 2,
  )
}
const command = parseCommand(argv, process.env)
if (command.kind === 'help') {
  console.log(command.text)
  process.exit(0)
}
if (command.kind === 'invalid') {
  console.error(`weft relay: ${command.message}`)
  process.exit(2)
}

const logger = jsonLogger(command.config['log-level'])
// Installed before the relay starts, so its first spans are exported too.
const tracing = startOtlpTracing(command.config['otlp-endpoint'], process.env)
if (tracing !== null) logger.info('exporting spans', { url: tracing.url })

try {
  const relay = await startRelayServer(command.config, logger)
  const stop = (signal: string): void => {
    logger.info('stopping', { signal })
    // The spans of the last writes are sent before exiting.
    relay
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('stop failed', { error: String(error) })
          process.exit(1)
        },
      )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
} catch (error) {
  logger.error('relay failed to start', {
    error: String(error),
    cause: String((error as Error).cause ?? ''),
  })
  process.exit(1)
}
