import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { command } from './commands.js';
import { requireTool } from './tools.js';
import type { DockerEngine } from './docker-engine.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MIRROR = process.env['DEBIAN_MIRROR'] ?? 'http://deb.debian.org/debian';
/** Where the stand-in keeps this machine's CA bundle (HTTPS from containers is intercepted on CI machines). */
const HOST_CA = '/usr/local/share/host-ca-certificates.pem';

/**
 * Docker Hub cannot be reached from CI, so the test builds the base image itself: a minimal Debian bookworm
 * (debootstrap), the Node LTS the Dockerfile defaults to (scripts/install-node-lts.sh: the official build, from PyPI)
 * with its npm where the official image has them (/usr/local), its `node` user (uid 1000), and this machine's CA
 * bundle for Node (NODE_EXTRA_CA_CERTS), imported with `docker import` as `mtls-edge-test/node:<major>-bookworm-slim`.
 * The Dockerfile takes it as a build argument and stays the one users build.
 */
export async function buildStandInBaseImage(engine: DockerEngine, workDir: string): Promise<string> {
  const debootstrap = requireTool('debootstrap', 'Install it: apt-get install debootstrap (.ci/run does, as root).');
  const installed = await command('bash', [join(ROOT, 'scripts/install-node-lts.sh'), join(workDir, 'node-lts')], {
    timeoutMs: 10 * 60_000,
  });
  const home = installed.stdout.trim();
  const node = join(home, 'bin/node');
  const npm = join(home, 'lib/node_modules/npm');
  const version = (await command(node, ['--version'])).stdout.trim();
  const image = `mtls-edge-test/node:${version.slice(1).split('.')[0]}-bookworm-slim`;
  const root = join(workDir, 'rootfs');
  await command(debootstrap, ['--variant=minbase', 'bookworm', root, MIRROR], { timeoutMs: 10 * 60_000 });
  mkdirSync(join(root, 'usr/local/lib/node_modules'), { recursive: true });
  copyFileSync(node, join(root, 'usr/local/bin/node'));
  chmodSync(join(root, 'usr/local/bin/node'), 0o755);
  cpSync(npm, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  copyFileSync(process.env['NODE_EXTRA_CA_CERTS'] ?? '/etc/ssl/certs/ca-certificates.crt', join(root, HOST_CA));
  await command('chroot', [root, 'groupadd', '--gid', '1000', 'node']);
  await command('chroot', [root, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '-m', 'node']);
  // What an image does not need: package lists and caches, documentation, translations.
  for (const d of ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/locale'])
    rmSync(join(root, d), { recursive: true, force: true });
  await importRootFs(engine, root, image);
  rmSync(root, { recursive: true, force: true });
  return image;
}

/** tar of the root file system | docker import, with what a Dockerfile's FROM reads from the image. */
function importRootFs(engine: DockerEngine, root: string, image: string): Promise<void> {
  const changes = [`ENV NODE_EXTRA_CA_CERTS=${HOST_CA}`, 'CMD ["node"]'].flatMap((c) => ['--change', c]);
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const importer = spawn(engine.docker, ['import', ...changes, '-', image], {
      env: engine.env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    importer.stderr.on('data', (c: Buffer) => (err += c.toString()));
    tar.stdout.pipe(importer.stdin);
    importer.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import: ${code}: ${err}`))));
    tar.once('exit', (code) => code !== 0 && reject(new Error(`tar of ${root}: exit ${code}`)));
  });
}
