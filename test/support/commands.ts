import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and resolves with its output; a non-zero exit rejects with the command line and the
 * last lines of what it printed, which is what a failing CI log needs to show.
 */
export function command(
  file: string,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: o.env ?? process.env, cwd: o.cwd, timeout: o.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
        const how = typeof error.code === 'number' ? `exit code ${error.code}` : error.message.split('\n')[0];
        reject(new Error(`${file} ${args.join(' ')}: ${how}\n${tail}`));
      },
    );
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}
