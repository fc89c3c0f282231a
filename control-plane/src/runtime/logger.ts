import { pino, type Logger } from 'pino';

/**
 * One JSON object per line for machines; readable lines when a person watches a terminal.
 * LOG_LEVEL=debug shows every xDS request and response; LOG_FORMAT=json forces JSON on a terminal.
 */
export function createLogger(env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  const level = env['LOG_LEVEL'] ?? 'info';
  const pretty = process.stdout.isTTY === true && env['LOG_FORMAT'] !== 'json';
  return pino({
    level,
    base: { service: 'mtls-edge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' },
          },
        }
      : {}),
  });
}
export type { Logger };
