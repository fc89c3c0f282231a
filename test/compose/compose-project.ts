import { readFileSync } from 'node:fs';
import { command } from '../support/commands.js';
import { requireTool } from '../support/tools.js';
import type { DockerEngine } from '../support/docker-engine.js';

const NAME = 'mtls-edge-compose-test';

/** docker-compose (Debian's 1.29; the file also runs under `docker compose` v2) on one project folder and engine. */
export class ComposeProject {
  private readonly compose = requireTool(
    'docker-compose',
    "Install it: apt-get install docker-compose (Debian's compose v1; .ci/run does).",
  );
  private readonly env: NodeJS.ProcessEnv;
  private up = false;

  constructor(
    private readonly engine: DockerEngine,
    private readonly dir: string,
    env: Record<string, string>,
  ) {
    this.env = { ...engine.env, ...env, COMPOSE_PROJECT_NAME: NAME };
  }

  async run(args: string[], timeoutMs = 5 * 60_000): Promise<string> {
    if (args[0] === 'up') this.up = true;
    return (await command(this.compose, args, { cwd: this.dir, env: this.env, timeoutMs })).stdout;
  }

  async down(): Promise<void> {
    if (!this.up) return;
    await this.run(['down', '--volumes', '--timeout', '20']);
    this.up = false;
  }

  private async docker(args: string[]): Promise<string> {
    return (await command(this.engine.docker, args, { env: this.env })).stdout.trim();
  }

  private async container(service: string): Promise<string> {
    const id = (await this.run(['ps', '-q', service])).trim();
    if (!id) throw new Error(`no container for the service ${service}`);
    return id;
  }

  private async inspect(service: string, format: string): Promise<string> {
    return this.docker(['inspect', '--format', format, await this.container(service)]);
  }

  /** Waits for Docker's healthcheck to say healthy; on a timeout, says what the checks and the service printed. */
  async waitHealthy(service: string, ms = 120_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const status = await this.inspect(service, '{{.State.Health.Status}}').catch((e: Error) => e.message);
      if (status === 'healthy') return;
      if (Date.now() > deadline) {
        const checks = await this.inspect(service, '{{json .State.Health}}').catch((e: Error) => e.message);
        const logs = await this.run(['logs', '--no-color', '--tail', '30', service]).catch((e: Error) => e.message);
        throw new Error(`${service} is not healthy after ${ms / 1000} s (${status}): ${checks}\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** A command in the service's running container, as the container's user. */
  async exitCode(service: string): Promise<number> {
    return Number(await this.inspect(service, '{{.State.ExitCode}}'));
  }

  async exec(service: string, args: string[]): Promise<string> {
    return this.docker(['exec', await this.container(service), ...args]);
  }

  /** The service's healthcheck test as Docker runs it (`CMD` form), for `exec`. */
  async healthcheckCommand(service: string): Promise<string[]> {
    const test = JSON.parse(await this.inspect(service, '{{json .Config.Healthcheck.Test}}')) as string[];
    if (test[0] !== 'CMD') throw new Error(`${service}: healthcheck ${JSON.stringify(test)} is not in CMD form`);
    return test.slice(1);
  }

  /** The host pid of the service's main process. */
  async pid(service: string): Promise<number> {
    return Number(await this.inspect(service, '{{.State.Pid}}'));
  }

  async restartCount(service: string): Promise<number> {
    return Number(await this.inspect(service, '{{.RestartCount}}'));
  }

  /** The uid the service's main process runs as (its real uid, from the kernel, not the image's USER). */
  async processUid(service: string): Promise<number> {
    const status = readFileSync(`/proc/${await this.pid(service)}/status`, 'utf8');
    return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  }

  /** Containers, networks and volumes of this project still on the engine. */
  async leftovers(): Promise<string[]> {
    const filter = ['--filter', `label=com.docker.compose.project=${NAME}`];
    const lines = await Promise.all([
      this.docker(['ps', '-a', '--format', 'container {{.Names}}', ...filter]),
      this.docker(['network', 'ls', '--format', 'network {{.Name}}', ...filter]),
      this.docker(['volume', 'ls', '--format', 'volume {{.Name}}', ...filter]),
    ]);
    return lines.flatMap((l) => l.split('\n')).filter(Boolean);
  }
}
