// The browser suites in the third engine: WebKit (WebKitGTK's MiniBrowser,
// Debian package webkit2gtk-driver), driven over classic WebDriver by
// @web/test-runner-webdriver. WebKitGTK has no headless mode: this config
// starts its own Xvfb (unless DISPLAY is set) and WebKitWebDriver on a free
// port (test/slow/engines.ts, shared with the slow suite) and stops both
// when the run ends. The same middleware and fixture sites as the Chromium run.
import { webdriverLauncher } from '@web/test-runner-webdriver';
import base from './web-test-runner.config.mjs';

// tsx is registered by the base config.
const { startWebKitDriver, webDriverCommand } = await import('./test/slow/engines.ts');
const driver = await startWebKitDriver();

const webkit = webdriverLauncher({
  hostname: '127.0.0.1',
  port: driver.port,
  path: '/',
  logLevel: 'error',
  capabilities: {
    ...driver.capabilities,
    // WebKitWebDriver speaks classic WebDriver only; webdriverio 9 would try BiDi first.
    'wdio:enforceWebDriverClassic': true,
  },
});

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  ...base,
  files: ['test/browser/**/*.test.ts'],
  browsers: [webkit],
  // One MiniBrowser window, navigated from test file to test file.
  concurrency: 1,
  plugins: [
    ...base.plugins,
    {
      name: 'atoll-webkit-driver',
      // wtr's set-viewport command (test-runner-commands' own plugin, which runs
      // first) throws for WebDriver browsers. Wrap it: for the WebKit session,
      // size the window so that the page's viewport gets the asked size (the
      // window's own chrome measured, not guessed); anything else goes on to it.
      serverStart({ config }) {
        const original = config.plugins.find((p) => p.name === 'set-viewport-command');
        if (!original?.executeCommand) throw new Error('wtr no longer has its set-viewport-command plugin: revisit web-test-runner.webkit.config.mjs');
        const forward = original.executeCommand.bind(original);
        original.executeCommand = async (args) => {
          const { command, payload, session } = args;
          if (command !== 'set-viewport' || session.browser.type !== 'webdriver') return forward(args);
          const sessionId = session.browser.driver?.sessionId;
          if (!sessionId) throw new Error('set-viewport: no WebDriver session');
          const { width, height } = /** @type {{ width: number, height: number }} */ (payload);
          const base = `${driver.url}/session/${sessionId}`;
          const viewport = async () =>
            /** @type {[number, number]} */ (await webDriverCommand(`${base}/execute/sync`, 'POST', { script: 'return [innerWidth, innerHeight]', args: [] }));
          let rect = /** @type {{ width: number, height: number }} */ (await webDriverCommand(`${base}/window/rect`, 'GET'));
          for (let i = 0; i < 3; i++) {
            const [w, h] = await viewport();
            if (w === width && h === height) return true;
            rect = /** @type {{ width: number, height: number }} */ (
              await webDriverCommand(`${base}/window/rect`, 'POST', { width: rect.width + width - w, height: rect.height + height - h })
            );
          }
          const [w, h] = await viewport();
          if (w !== width || h !== height) throw new Error(`set-viewport: asked ${width}x${height}, WebKit's viewport is ${w}x${h}`);
          return true;
        };
      },
      async serverStop() {
        await driver.stop();
      },
    },
  ],
};
