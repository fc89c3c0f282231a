import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ACCESS_LOG_MESSAGE } from '../config/index.js';
import { jsonLineOutput, type Logger } from './logger.js';

/** A line longer than this is not an access log entry: it is dropped, not buffered without bound. */
const MAX_PENDING_BYTES = 1 << 20;

/**
 * Envoy's stdout, one access log entry per line, already in the edge's log line (translate/access-log.ts): to the
 * log as it is, whole lines at a time (no parsing per request); parsed only for a terminal's pretty printer, with
 * a summary of the request as its message.
 */
export function forwardAccessLog(stdout: Readable, log: Logger): void {
  const output = jsonLineOutput(log);
  if (output.kind === 'parse-for-terminal')
    createInterface({ input: stdout }).on('line', (line) => logForTerminal(line, log));
  // Read even when dropped: a full pipe would stall Envoy's writes.
  else passWholeLines(stdout, output.kind === 'drop' ? () => {} : output.write);
}

/**
 * The stream's text, whole lines at a time, so that they never interleave with other log lines: a read can end
 * inside a line, whose start then waits for its end. A line longer than MAX_PENDING_BYTES is dropped whole.
 */
export function passWholeLines(input: Readable, write: (lines: string) => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  input.on('data', (chunk: Buffer) => {
    const end = chunk.lastIndexOf(0x0a);
    if (end === -1) {
      if (skipping) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes > MAX_PENDING_BYTES) [pending, pendingBytes, skipping] = [[], 0, true];
      return;
    }
    // An overlong line ends at this chunk's first newline; whole lines follow it.
    const start = skipping ? chunk.indexOf(0x0a) + 1 : 0;
    skipping = false;
    if (start <= end) {
      const lines = chunk.subarray(start, end + 1);
      write((pending.length > 0 ? Buffer.concat([...pending, lines]) : lines).toString('utf8'));
    }
    pending = end + 1 < chunk.length ? [chunk.subarray(end + 1)] : [];
    pendingBytes = pending.length > 0 ? pending[0]!.length : 0;
  });
}

function logForTerminal(line: string, log: Logger): void {
  const access = parseObject(line)?.['access'];
  if (typeof access !== 'object' || access === null || Array.isArray(access)) {
    log.info({ src: 'envoy' }, printable(line));
    return;
  }
  // One line a request for a person: the summary alone (the whole entry is in the JSON log). printable(): the
  // client chose the host and path, and a terminal would obey its DEL and C1 controls (a CSI).
  log.info(printable(summary(access as Record<string, unknown>)));
}

/** `http-request GET example.com/path → 403 (reason)`, from whichever of those fields the entry has. */
function summary(access: Record<string, unknown>): string {
  const text = (key: string): string => {
    const v = access[key];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
  };
  const request = [text('method'), `${text('authority')}${text('path')}`].filter((s) => s !== '').join(' ');
  const reason = text('reason');
  const status = `${text('response-code')}${reason !== '' ? ` (${reason})` : ''}`;
  return [ACCESS_LOG_MESSAGE, request, status !== '' ? `→ ${status}` : ''].filter((s) => s !== '').join(' ');
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const FORMAT = /[\p{Cf}\u2028\u2029]/u;

/** The fields come from the request: a terminal must not get its control characters (the JSON form keeps them). */
function printable(text: string): string {
  // Also format characters (bidi overrides, zero widths) and line separators: a line that reads otherwise.
  return [...text].map((c) => (c < ' ' || (c >= '\u007f' && c <= '\u009f') || FORMAT.test(c) ? '?' : c)).join('');
}
