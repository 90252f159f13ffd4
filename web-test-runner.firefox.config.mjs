// The islands suite in a second engine: Debian's firefox-esr (153 ESR),
// driven by puppeteer-core over WebDriver BiDi — no downloaded browsers.
// The same middleware and fixture sites as the Chromium run.
import { existsSync } from 'node:fs';
import { chromeLauncher } from '@web/test-runner-chrome';
import base from './web-test-runner.config.mjs';

const executablePath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
if (!existsSync(executablePath)) {
  throw new Error(`Firefox not found at ${executablePath}: install it (apt-get install -y firefox-esr) or set FIREFOX_PATH`);
}

// @web/test-runner-chrome launches through puppeteer-core, which drives
// Firefox over WebDriver BiDi when asked for `browser: 'firefox'`.
const firefox = chromeLauncher({ launchOptions: { browser: 'firefox', executablePath, headless: true, args: [] } });
firefox.name = 'Firefox ESR';

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  ...base,
  files: ['test/browser/**/*.test.ts'],
  browsers: [firefox],
};
