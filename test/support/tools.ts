import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The first executable `name` on `PATH` (as a shell would find it), or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    // An empty or relative PATH entry means a folder that depends on where the tests run: not a tool we can name.
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A command-line tool a test compares against. Missing, the test fails (never skips) and says how to get it:
 * a skipped comparison would look like a passing one in a summary nobody reads.
 */
export function requireTool(name: string, howToInstall: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = findOnPath(name, env);
  if (!found)
    throw new Error(`${name} is not on PATH (${env['PATH'] ?? ''}); this test compares against it. ${howToInstall}`);
  return found;
}

export const OPENSSL_INSTALL =
  'Install it: apt-get install openssl (Debian/Ubuntu), dnf install openssl ' +
  '(Fedora), apk add openssl (Alpine), brew install openssl (macOS).';

/** The openssl binary on PATH; throws with install instructions when there is none. */
export function requireOpenssl(env: NodeJS.ProcessEnv = process.env): string {
  return requireTool('openssl', OPENSSL_INSTALL, env);
}
