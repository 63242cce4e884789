import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`), which the browser tests drive through playwright-core. */
const CHROMIUM = '/usr/bin/chromium';

/**
 * `describe` when Chromium is installed, else `describe.skip` with a warning naming what is skipped
 * (tests that need a missing part are reported as skipped, by name, never passed silently).
 */
export function describeWithChromium(name: string): jest.Describe {
  if (existsSync(CHROMIUM)) return describe;
  console.warn(`No Chromium at ${CHROMIUM} (apt-get install chromium): "${name}" is skipped`);
  return describe.skip;
}

/** A headless Chromium with no background networking (the machine's network is closed). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
