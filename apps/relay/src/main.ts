/** The relay's command line: parse config, log JSON with pino, start, and stop cleanly on signals. */
import { pino } from 'pino'
import type { Logger } from '@weft/server'
import { parseCommand } from './config.js'
import { startRelayServer } from './relay-server.js'

const command = parseCommand(process.argv.slice(2), process.env)
if (command.kind === 'help') {
  console.log(command.text)
  process.exit(0)
}
if (command.kind === 'invalid') {
  console.error(`weft relay: ${command.message}`)
  process.exit(2)
}

const log = pino({ level: command.config['log-level'], base: { service: 'weft-relay' } })
const logger: Logger = {
  debug: (message, context) => log.debug(context ?? {}, message),
  info: (message, context) => log.info(context ?? {}, message),
  warn: (message, context) => log.warn(context ?? {}, message),
  error: (message, context) => log.error(context ?? {}, message),
}

try {
  const relay = await startRelayServer(command.config, logger)
  const stop = (signal: string): void => {
    logger.info('stopping', { signal })
    relay.close().then(
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
