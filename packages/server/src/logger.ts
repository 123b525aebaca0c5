/** The console-shaped logger library code writes to, and a helper that binds context to it. */

/** Context fields attached to a log line (connection id, document, correlation id…). */
export type LogContext = Readonly<Record<string, unknown>>

/** A console-shaped logger. Library code never logs document content or tokens. */
export interface Logger {
  debug(message: string, context?: LogContext): void
  info(message: string, context?: LogContext): void
  warn(message: string, context?: LogContext): void
  error(message: string, context?: LogContext): void
}

const noop = (): void => {}

/** A logger that drops everything; the default of every Weft library. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }

/** Returns a logger that adds `bound` to the context of every line. */
export const bindLogger = (logger: Logger, bound: LogContext): Logger => {
  if (logger === silentLogger) return logger
  const merge = (context?: LogContext): LogContext => (context ? { ...bound, ...context } : bound)
  return {
    debug: (message, context) => logger.debug(message, merge(context)),
    info: (message, context) => logger.info(message, merge(context)),
    warn: (message, context) => logger.warn(message, merge(context)),
    error: (message, context) => logger.error(message, merge(context)),
  }
}
