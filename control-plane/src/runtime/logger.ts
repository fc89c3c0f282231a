import { pino, type Logger } from 'pino';

/** One JSON object per line on stdout; LOG_LEVEL=debug shows every xDS request and response. */
export function createLogger(env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  return pino({ level: env['LOG_LEVEL'] ?? 'info', base: { service: 'mtls-edge' }, timestamp: pino.stdTimeFunctions.isoTime });
}
export type { Logger };
