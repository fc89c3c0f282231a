import { pino, type DestinationStream, type Logger } from 'pino';
import { LOG_SERVICE } from '../config/index.js';

/** The destinations that take JSON lines as they are (not a terminal's pretty printer). */
const jsonDestinations = new WeakSet<object>();

/**
 * One JSON object per line for machines; readable lines when a person watches a terminal, one line per entry
 * (its fields after the message). LOG_LEVEL=debug shows every xDS request and response; LOG_FORMAT=json forces
 * JSON on a terminal.
 */
export function createLogger(env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  const level = env['LOG_LEVEL'] ?? 'info';
  const pretty = process.stdout.isTTY === true && env['LOG_FORMAT'] !== 'json';
  const options = { level, base: { service: LOG_SERVICE }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty)
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true },
      },
    });
  const destination = pino.destination({ dest: 1, minLength: 0 });
  jsonDestinations.add(destination);
  return pino(options, destination);
}

/** Whether the log goes to a person's terminal (pretty-printed), not to a machine as JSON lines. */
export function writesToTerminal(log: Logger): boolean {
  return jsonDestination(log) === undefined;
}

function jsonDestination(log: Logger): DestinationStream | undefined {
  const destination = (log as unknown as Record<symbol, DestinationStream | undefined>)[pino.symbols.streamSym];
  return destination && jsonDestinations.has(destination) ? destination : undefined;
}

/** What to do with info lines already in the log's own JSON form (Envoy's access log). */
export type JsonLineOutput =
  { kind: 'drop' } | { kind: 'as-they-are'; write: (lines: string) => void } | { kind: 'parse-for-terminal' };

/**
 * Info lines in the log's own JSON form go out as they are (parsing and re-serialising each access log entry cost
 * about a tenth of the keep-alive request rate, issue 14); nowhere when info lines are off; a terminal's pretty
 * printer must parse them.
 */
export function jsonLineOutput(log: Logger): JsonLineOutput {
  if (!log.isLevelEnabled('info')) return { kind: 'drop' };
  const destination = jsonDestination(log);
  if (destination === undefined) return { kind: 'parse-for-terminal' };
  return { kind: 'as-they-are', write: (lines) => destination.write(lines) };
}
export type { Logger };
