/** The relay app as a library: start it in-process with a parsed configuration. */
export { startRelayServer, type RunningRelay } from './relay-server.js'
export {
  parseCommand,
  helpText,
  envName,
  OPTIONS,
  type RelayConfig,
  type ParsedCommand,
} from './config.js'
