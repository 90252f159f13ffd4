/**
 * Config files (site/config.ts): `atoll.config.ts` with `defineConfig`,
 * `.mjs`, `.json` with `"$schema"`; two files at once is a start-up error
 * naming both; the committed JSON schema (schema/atoll.config.schema.json)
 * is what scripts/config-schema.ts generates from the one valibot schema,
 * and agrees with it on sample configs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defineConfig } from '../../ssr-server/index.ts';
import { formatProblem, ProblemList, SiteError } from '../../ssr-server/errors.ts';
import { CONFIG_KEYS, ELEMENT_ENTRY_KEYS, loadConfig, type AtollConfig } from '../../ssr-server/site/config.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { configJsonSchemaText, SCHEMA_FILE } from '../../scripts/config-schema.ts';
import { layout, makeSite, runCli } from '../helpers.ts';

const SCHEMA_URL = './node_modules/atoll-ssr/schema/atoll.config.schema.json';
const page = { 'layouts/index.html': layout('<p>x</p>') };

async function problemsOf(root: string): Promise<string[]> {
  const problems = new ProblemList();
  await loadConfig(root, problems);
  return problems.errors.map(formatProblem);
}

// Type tests (npm run typecheck): defineConfig takes the schema's input type.
defineConfig({ port: 1, timeout: '2s', csp: true, elements: { 'x-a': { module: './x.js', cache: 60 } }, ssr: { shims: 'lit' } });
// @ts-expect-error a port is a number
defineConfig({ port: '80' });
// @ts-expect-error unknown keys are refused
defineConfig({ prot: 80 });
// @ts-expect-error logLevel is one of the levels
defineConfig({ logLevel: 'loud' });
const typed: AtollConfig = defineConfig({ outDir: 'dist/client' });
void typed;

describe('config files', () => {
  test('atoll.config.ts with defineConfig from atoll-ssr', async () => {
    const root = makeSite({
      ...page,
      'atoll.config.ts': `import { defineConfig } from 'atoll-ssr';\nconst port: number = 4321;\nexport default defineConfig({ port, logLevel: 'warn', timeout: '3s' });\n`,
    });
    const site = await loadSite({ root });
    assert.equal(site.config.port, 4321);
    assert.equal(site.config.logLevel, 'warn');
    assert.equal(site.config.timeout, 3000);
  });

  test('atoll.config.ts problems name the file; a throwing module is reported, not thrown', async () => {
    const bad = makeSite({ ...page, 'atoll.config.ts': `export default { port: 'eighty' as unknown as number };\n` });
    assert.deepEqual(await problemsOf(bad), ['atoll.config.ts: port must be a port number, not "eighty"']);
    const throws = makeSite({ ...page, 'atoll.config.ts': `throw new Error('no config today');\nexport default {};\n` });
    const [p] = await problemsOf(throws);
    assert.match(p!, /^atoll\.config\.ts: the config module threw while loading: no config today/);
  });

  test('atoll.config.mjs', async () => {
    const root = makeSite({ ...page, 'atoll.config.mjs': `export default { port: 4322 };\n` });
    assert.equal((await loadSite({ root })).config.port, 4322);
  });

  test('atoll.config.json with "$schema" is accepted (and not part of the resolved config); bad values point at file:line:col', async () => {
    const root = makeSite({ ...page, 'atoll.config.json': JSON.stringify({ $schema: SCHEMA_URL, port: 4323 }, null, 2) });
    const site = await loadSite({ root });
    assert.equal(site.config.port, 4323);
    assert.equal('$schema' in site.config, false);
    const bad = makeSite({ ...page, 'atoll.config.json': `{\n  "$schema": "${SCHEMA_URL}",\n  "port": 99999,\n  "logLevel": "loud"\n}\n` });
    assert.deepEqual(await problemsOf(bad), [
      'atoll.config.json:3:11: port: 99999 is not a port: use an integer from 0 to 65535',
      'atoll.config.json:4:15: logLevel: "loud" is not a log level: use one of debug, info, warn, error, silent',
    ]);
    const notString = makeSite({ 'atoll.config.json': `{ "$schema": 7 }` });
    assert.deepEqual(await problemsOf(notString), ['atoll.config.json:1:14: $schema must be a string (the JSON schema\'s URL or path), not 7']);
  });

  test('two config files at once: a start-up error naming both', async () => {
    const root = makeSite({ ...page, 'atoll.config.ts': 'export default {};\n', 'atoll.config.json': '{}' });
    await assert.rejects(loadSite({ root }), (e: unknown) => {
      assert.ok(e instanceof SiteError);
      const text = e.problems.map(formatProblem).join('\n');
      assert.match(text, /atoll\.config\.ts/);
      assert.match(text, /atoll\.config\.json/);
      assert.match(text, /keep one/);
      return true;
    });
    const cli = await runCli(['check', '--root', root]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /2 config files: atoll\.config\.ts, atoll\.config\.json/);
  });

  test('outDir is a non-empty string', async () => {
    const root = makeSite({ 'atoll.config.json': '{ "outDir": "" }' });
    assert.deepEqual(await problemsOf(root), ['atoll.config.json:1:13: outDir must be a folder path, not an empty string']);
  });
});

// ---------------------------------------------------------------------------
// The JSON schema
// ---------------------------------------------------------------------------

type Json = Record<string, unknown>;
/** A small draft-07 validator for the keywords the generated schema uses (a keyword it does not know fails the test). */
function valid(schema: Json, value: unknown): boolean {
  const known = new Set(['$schema', '$id', 'title', 'description', 'default', 'type', 'properties', 'required', 'additionalProperties', 'anyOf', 'enum', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'items', 'propertyNames', 'not']);
  for (const k of Object.keys(schema)) assert.ok(known.has(k), `the test's validator does not know "${k}"`);
  const type = schema.type as string | string[] | undefined;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    const ok = types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)));
    if (!ok) return false;
  }
  if (schema.not !== undefined && valid(schema.not as Json, value)) return false;
  if (schema.anyOf !== undefined && !(schema.anyOf as Json[]).some((s) => valid(s, value))) return false;
  if (schema.enum !== undefined && !(schema.enum as unknown[]).includes(value)) return false;
  if (typeof value === 'string') {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern as string, 'u').test(value)) return false;
    if (schema.minLength !== undefined && value.length < (schema.minLength as number)) return false;
    if (schema.maxLength !== undefined && value.length > (schema.maxLength as number)) return false;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < (schema.minimum as number)) return false;
    if (schema.maximum !== undefined && value > (schema.maximum as number)) return false;
  }
  if (Array.isArray(value) && schema.items !== undefined && !value.every((x) => valid(schema.items as Json, x))) return false;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const props = (schema.properties ?? {}) as Record<string, Json>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in value)) return false;
    for (const [k, v] of Object.entries(value)) {
      if (schema.propertyNames !== undefined && !valid(schema.propertyNames as Json, k)) return false;
      if (k in props) {
        if (!valid(props[k]!, v)) return false;
      } else if (schema.additionalProperties !== undefined && !valid(schema.additionalProperties as Json, v)) return false;
    }
  }
  return true;
}

describe('the JSON schema of atoll.config.json', () => {
  test('the committed schema/atoll.config.schema.json is what scripts/config-schema.ts generates (run npm run schema)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), configJsonSchemaText(), 'schema/atoll.config.schema.json is out of date: run npm run schema');
  });

  test('it names every key of the valibot schema and refuses unknown ones', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;
    assert.deepEqual(Object.keys(schema.properties as Json).sort(), [...CONFIG_KEYS].sort());
    const entry = ((schema.properties as Record<string, Json>).elements!.additionalProperties as Json).properties as Json;
    assert.deepEqual(Object.keys(entry).sort(), [...ELEMENT_ENTRY_KEYS].sort());
    assert.equal(valid(schema, { prot: 80 }), false);
  });

  test('it agrees with the valibot schema on sample configs', async () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;
    const samples: unknown[] = [
      {},
      { $schema: SCHEMA_URL, port: 8080, host: '0.0.0.0', logLevel: 'warn' },
      { timeout: '2s', remoteHeadDeadline: 250, sendTimeout: '1m', drainTimeout: 0 },
      { layouts: { '/admin': 'admin.html' }, elements: { 'shop-cart': { module: './elements/cart.ts', cache: '60s', timeout: 800 } } },
      { elements: { 'x-remote': { url: 'https://reviews.example/_atoll/fragment/x-remote', cacheControl: 'public, max-age=60' } } },
      { csp: true },
      { csp: { policy: "script-src 'nonce-{nonce}'", reportOnly: true } },
      { ssr: { shims: ['lit', './shim.js'], connectedCallback: ['x-a'], importTimeout: '10s' } },
      { cors: { origins: ['*', 'https://a.example'] }, publicOrigin: 'https://shop.example', headers: { 'x-frame-options': 'DENY' } },
      { requestHeaders: ['Accept-Language'], fragment: { attributes: ['data-variant'] }, outDir: 'build/client', maxRemoteBytes: 1024 },
      // refused by both
      { port: 70000 },
      { port: '80' },
      { logLevel: 'loud' },
      { timeout: 'soon' },
      { unknown: 1 },
      { elements: { NotATag: { module: './x.js' } } },
      { layouts: { admin: 'admin.html' } },
      { csp: 'yes' },
      { ssr: { shims: 7 } },
      { renderers: [1] },
      { outDir: '' },
      { host: '' },
      { maxBufferedBytes: 1.5 },
    ];
    for (const sample of samples) {
      const root = makeSite({ 'atoll.config.json': JSON.stringify(sample) });
      const byValibot = (await problemsOf(root)).length === 0;
      assert.equal(valid(schema, sample), byValibot, `${JSON.stringify(sample)}: JSON schema ${valid(schema, sample)}, Atoll ${byValibot}`);
    }
  });
});
