import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { forwardAccessLog, passWholeLines } from '../../../control-plane/src/runtime/envoy-access-log.js';
import { createLogger, jsonLineOutput } from '../../../control-plane/src/runtime/logger.js';

/** Feeds `chunks` through a stream and returns what `passWholeLines` wrote, call by call. */
async function passed(chunks: Buffer[]): Promise<string[]> {
  const input = new PassThrough();
  const writes: string[] = [];
  passWholeLines(input, (lines) => writes.push(lines));
  for (const c of chunks) input.write(c);
  input.end();
  await new Promise((r) => input.on('end', r));
  return writes;
}

describe("Envoy's access log lines on their way to run's log", () => {
  it('whole lines only: a line cut between reads (inside a UTF-8 character too) waits for its end', async () => {
    const e = Buffer.from('é\n');
    const writes = await passed([Buffer.from('a\nb'), Buffer.from('c\n'), e.subarray(0, 1), e.subarray(1)]);
    assert.deepEqual(writes, ['a\n', 'bc\n', 'é\n']);
  });

  it('a line without an end that outgrows the buffer is dropped whole, and the lines after it pass', async () => {
    const long = Buffer.alloc((1 << 20) + 1, 'x');
    const writes = await passed([long, Buffer.from('xxx'), Buffer.from('tail\nnext\n'), Buffer.from('last\n')]);
    assert.deepEqual(writes, ['next\n', 'last\n']);
  });

  it('for a terminal: parsed, one line (the summary alone), no control characters', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) });
    const input = new PassThrough();
    forwardAccessLog(input, pino({ base: null, timestamp: false }, sink));
    const access = {
      method: 'GET',
      authority: 'a\u001b[31m\u0085\u202e',
      path: '/x',
      'response-code': 403,
      reason: 'r',
    };
    input.end(`${JSON.stringify({ level: 30, src: 'envoy', msg: 'http-request', access })}\nnot json \u0007\n`);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      [
        { level: 30, msg: 'http-request GET a?[31m??/x → 403 (r)' },
        { level: 30, src: 'envoy', msg: 'not json ?' },
      ],
    );
  });

  it('the JSON log takes the lines as they are; LOG_LEVEL above info drops them; a pretty printer parses', () => {
    // Tests run with stdout on a pipe, as run in a container or under a supervisor: the JSON log.
    assert.equal(jsonLineOutput(createLogger({})).kind, 'as-they-are');
    assert.equal(jsonLineOutput(createLogger({}).child({ c: 1 })).kind, 'as-they-are');
    assert.equal(jsonLineOutput(createLogger({ LOG_LEVEL: 'warn' })).kind, 'drop');
    assert.equal(jsonLineOutput(pino(new PassThrough())).kind, 'parse-for-terminal');
  });

  // A pipe left unread would stall Envoy's writes: the stream must end (within the timeout) without a reader.
  it('LOG_LEVEL above info: nothing is written, and the pipe is still read', { timeout: 10_000 }, async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) });
    const input = new PassThrough();
    forwardAccessLog(input, pino({ level: 'warn' }, sink));
    input.end('{"level":30,"msg":"http-request","access":{}}\n'.repeat(10_000));
    await new Promise((r) => input.on('end', r));
    assert.deepEqual(lines, []);
  });
});
