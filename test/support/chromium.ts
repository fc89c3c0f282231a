import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Screenshots land here for people to look at (CI keeps the folder as an artifact). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** Tests that claim browser behaviour fail, never skip, without a browser. */
function requireChromium(): string {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return CHROMIUM;
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run \`bash scripts/install-browser.sh\` (Debian, as root; \`npm test\` ` +
        'runs it), or set CHROMIUM_PATH to a Chromium or Chrome binary',
    );
  }
}

/**
 * Headless Chromium that stays off the network: without the background-networking flags it keeps trying to reach
 * Google's hosts, which this machine's closed network refuses.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: requireChromium(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
  });
}
