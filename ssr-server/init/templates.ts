/**
 * The files `atoll init` writes: a minimal site with one Lit element (and
 * its server `data()` hook), one route, a Node test of the element through
 * the testing kit, and a README that says the two commands. Plain strings,
 * so they compile into the package with the rest of Atoll.
 */

/** What the templates are filled with. */
export interface TemplateValues {
  /** The site's package name (a valid npm name). */
  name: string;
  /** Version ranges of the packages the site depends on. */
  versions: { atoll: string; lit: string; happyDom: string; tsx: string };
}

/** The element the site starts with. */
export const STARTER_TAG = 'hello-world';

const packageJson = ({ name, versions }: TemplateValues): string =>
  JSON.stringify(
    {
      name,
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: {
        dev: 'atoll dev',
        start: 'atoll serve',
        build: 'atoll build',
        check: 'atoll check',
        test: 'node --import tsx --test test/*.test.ts',
      },
      dependencies: { 'atoll-ssr': versions.atoll, lit: versions.lit },
      devDependencies: { 'happy-dom': versions.happyDom, tsx: versions.tsx },
    },
    null,
    2,
  ) + '\n';

const tsconfig = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "types": ["node"],
    "strict": true,
    "noEmit": true,
    // happy-dom 21's own types need a newer @types/node than Node 20's.
    "skipLibCheck": true,
    "verbatimModuleSyntax": true,
    "isolatedModules": true
  },
  "include": ["elements", "test"]
}
`;

const gitignore = `node_modules/
# Atoll's client build (atoll build, atoll serve, atoll dev)
.atoll/
`;

const layout = ({ name }: TemplateValues): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${name}</title>
  <atoll-head></atoll-head>
</head>
<body>
  <atoll-route path="/">
    <main>
      <${STARTER_TAG} name="world" hydrate="load"></${STARTER_TAG}>
    </main>
  </atoll-route>
</body>
</html>
`;

const element = `import { LitElement, css, html } from 'lit';
import { property, state } from 'lit/decorators.js';

/**
 * Greets \`name\` with the \`message\` its server hook gives, and counts clicks
 * once hydrated in the browser.
 */
export class HelloWorld extends LitElement {
  static styles = css\`
    :host { display: block; font-family: system-ui, sans-serif; }
    button { font: inherit; }
  \`;

  @property() accessor name = 'world';
  @property({ attribute: false }) accessor message = '';
  @state() accessor clicks = 0;

  render() {
    return html\`<h1>Hello, \${this.name}!</h1>
      <p>\${this.message}</p>
      <button type="button" @click=\${() => this.clicks++}>Clicked \${this.clicks} times</button>\`;
  }
}
customElements.define('${STARTER_TAG}', HelloWorld);
`;

const serverHooks = `import type { ElementContext } from 'atoll-ssr';

/**
 * Runs on the server for every <${STARTER_TAG}> of a page, before it renders:
 * the keys of the result become the element's properties (and travel to the
 * browser for hydration).
 */
export function data(ctx: ElementContext) {
  return { message: \`Rendered on the server for \${ctx.url.pathname}, then hydrated in your browser.\` };
}
`;

const test = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderToDocument } from 'atoll-ssr/testing';

test('<${STARTER_TAG}> renders on the server with the data it is given', async () => {
  const doc = await renderToDocument({ root: '.', tag: '${STARTER_TAG}', attributes: { name: 'Ada' }, data: { message: 'from a test' } });
  const el = doc.querySelector('${STARTER_TAG}')!;
  assert.equal(el.shadowRoot!.querySelector('h1')!.textContent, 'Hello, Ada!');
  assert.equal(el.shadowRoot!.querySelector('p')!.textContent, 'from a test');
});

test('the home page renders <${STARTER_TAG}> with its data() hook', async () => {
  const doc = await renderToDocument({ root: '.', route: '/' });
  assert.equal(doc.status, 200);
  const el = doc.querySelector('${STARTER_TAG}')!;
  assert.equal(el.shadowRoot!.querySelector('h1')!.textContent, 'Hello, world!');
  assert.match(el.shadowRoot!.querySelector('p')!.textContent!, /Rendered on the server for \\/,/);
});
`;

const readme = ({ name }: TemplateValues): string => `# ${name}

A site made with [Atoll](https://www.npmjs.com/package/atoll-ssr): web components
rendered on the server to declarative shadow DOM, hydrated in the browser as
islands.

## Start

\`\`\`sh
npm install
npm run dev
\`\`\`

Then open http://127.0.0.1:3000/ — edits to the element, its server hook or
the layout show up in the browser as you save.

## What is here

| file | what it is |
| --- | --- |
| \`layouts/index.html\` | the page: \`<atoll-head>\` and one route, \`/\` |
| \`elements/${STARTER_TAG}/index.ts\` | a Lit element, rendered on the server and hydrated in the browser (\`hydrate="load"\`) |
| \`elements/${STARTER_TAG}/server.ts\` | its \`data()\` hook: runs on the server, its result becomes the element's properties |
| \`test/${STARTER_TAG}.test.ts\` | a Node test of the element's server output (\`renderToDocument\` from \`atoll-ssr/testing\`) |

## Commands

| command | does |
| --- | --- |
| \`npm run dev\` | the dev server: live reload, errors in the browser |
| \`npm test\` | the tests in \`test/\` |
| \`npm run check\` | checks layouts and elements, with file:line:col |
| \`npm run build\` | the client build (into \`.atoll/\`) |
| \`npm start\` | the production server (\`atoll serve\`; \`PORT\` and \`HOST\` from the environment) |

## Deploy

\`\`\`sh
npm run build
npm install --omit=dev && npx atoll serve
\`\`\`
`;

/** The site's files: path (relative, \`/\`-separated) → content. */
export function siteFiles(values: TemplateValues): Array<[path: string, content: string]> {
  return [
    ['package.json', packageJson(values)],
    ['tsconfig.json', tsconfig],
    ['.gitignore', gitignore],
    ['README.md', readme(values)],
    ['layouts/index.html', layout(values)],
    [`elements/${STARTER_TAG}/index.ts`, element],
    [`elements/${STARTER_TAG}/server.ts`, serverHooks],
    [`test/${STARTER_TAG}.test.ts`, test],
  ];
}
