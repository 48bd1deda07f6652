/**
 * Launches Debian's Chromium through playwright-core with the flags that work on these machines.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** CHROMIUM_PATH is Debian's Chromium (`apt-get install -y chromium`), overridable for other machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** launchBrowser starts a headless Chromium with a fresh profile; close() removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'om-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * watchErrors records a page's uncaught errors (and, with `consoleErrors`, its console errors), each prefixed with
 * `label`, so a test can assert at the end that no page failed.
 */
export function watchErrors(page: Page, label: string, pageErrors: string[], consoleErrors?: string[]): void {
  page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
  if (consoleErrors) {
    page.on('console', (m) => {
      if (m.type() === 'error') {
        consoleErrors.push(`${label}: ${m.text()}`);
      }
    });
  }
}
