/**
 * A real headless Chromium for dashboard tests: playwright-core driving @sparticuz/chromium's
 * binary. A machine where it cannot start fails the suite; it is never skipped.
 */
import chromium from '@sparticuz/chromium';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium as playwright, type Browser } from 'playwright-core';
import { ROOT } from './sandbox.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts');

/**
 * Its flags are for a Lambda: one process (pages and contexts cannot be closed and reopened in
 * it) and the web's security relaxed, which would make the dashboard's security tests void.
 */
const DROPPED = new Set([
  '--single-process',
  '--disable-web-security',
  '--allow-running-insecure-content',
]);

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((arg) => !DROPPED.has(arg)),
    headless: true,
  });
}
