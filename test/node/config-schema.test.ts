/**
 * The config schema (ssr-server/site/config.ts): hostile and invalid configs
 * are refused with one exact `file:line:col: message` each — from
 * atoll.config.json (line and column of the key or value), from
 * atoll.config.mjs (the file), and from config given in code (`(createAtoll
 * config)`) — and valid ones resolve to the ResolvedConfig the engine reads:
 * defaults filled, durations in milliseconds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatProblem, ProblemList, SiteError } from '../../ssr-server/errors.ts';
import { CONFIG_DEFAULTS, CONFIG_KEYS, ELEMENT_ENTRY_KEYS, loadConfig, readConfigFile, resolveConfigSources, type AtollConfig } from '../../ssr-server/site/config.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { layout, litElement, makeSite, repoRoot } from '../helpers.ts';

/** Every problem `atoll.config.json` with `text` gives, as `atoll check` prints it. */
async function jsonProblems(text: string): Promise<string[]> {
  const root = makeSite({ 'atoll.config.json': text });
  const problems = new ProblemList();
  await loadConfig(root, problems);
  return problems.errors.map(formatProblem);
}

/** Problems of a file config (optional) with `code` given in code over it. */
async function codeProblems(code: unknown, fileText?: string): Promise<string[]> {
  const root = makeSite(fileText === undefined ? {} : { 'atoll.config.json': fileText });
  const problems = new ProblemList();
  const source = await readConfigFile(root, problems);
  resolveConfigSources(source, code, problems);
  return problems.errors.map(formatProblem);
}

const J = 'atoll.config.json';
const C = '(createAtoll config)';
const HEADER_ADVICE = 'use printable ASCII on one line, without control characters';
const ORIGIN_EXAMPLE = 'such as "https://shop.example" or "http://127.0.0.1:8080" (scheme, host and optional port; no path)';
const KNOWN = CONFIG_KEYS.join(', ');
const ELEMENT_KEYS = ELEMENT_ENTRY_KEYS.join(', ');

/** [name, atoll.config.json text, exact problems]. `\u0001` in a JSON string is the control character after parsing. */
const invalidJson: Array<[string, string, string[]]> = [
  [
    'a control character in a header value',
    '{\n  "headers": {\n    "x-evil": "a\\u0001b"\n  }\n}\n',
    [`${J}:3:15: headers.x-evil: the value contains U+0001, which is not allowed in a header value: ${HEADER_ADVICE}`],
  ],
  [
    'CR/LF in a header value (response splitting)',
    '{\n  "headers": { "x-evil": "a\\r\\nSet-Cookie: s=1" }\n}',
    [`${J}:2:26: headers.x-evil: the value contains CR or LF: ${HEADER_ADVICE}`],
  ],
  [
    'a lone LF and DEL in header values',
    '{ "headers": { "a": "x\\ny", "b": "x\\u007fy" } }',
    [
      `${J}:1:21: headers.a: the value contains CR or LF: ${HEADER_ADVICE}`,
      `${J}:1:34: headers.b: the value contains U+007F, which is not allowed in a header value: ${HEADER_ADVICE}`,
    ],
  ],
  [
    'U+20AC (above U+00FF) in a header value',
    '{\n  "headers": {\n    "x-price": "5 €"\n  }\n}',
    [`${J}:3:16: headers.x-price: the value contains U+20AC, which is not allowed in a header value: ${HEADER_ADVICE}`],
  ],
  [
    'a header value with leading whitespace and one too long',
    `{ "headers": { "a": " x", "b": "${'x'.repeat(8193)}" } }`,
    [
      `${J}:1:21: headers.a: the value has leading or trailing whitespace: ${HEADER_ADVICE}`,
      `${J}:1:32: headers.b: the value is 8193 characters long: at most 8192`,
    ],
  ],
  [
    'invalid header names, reported at the key',
    '{\n  "headers": {\n    "x evil": "1",\n    "x:y": "2",\n    "": "3",\n    "x-é": "4"\n  }\n}',
    [
      `${J}:3:5: headers: "x evil" is not a valid header name: use letters, digits and !#$%&'*+-.^_\`|~ only`,
      `${J}:4:5: headers: "x:y" is not a valid header name: use letters, digits and !#$%&'*+-.^_\`|~ only`,
      `${J}:5:5: headers: "" is not a valid header name: use letters, digits and !#$%&'*+-.^_\`|~ only`,
      `${J}:6:5: headers: "x-\\u00e9" is not a valid header name: use letters, digits and !#$%&'*+-.^_\`|~ only`,
    ],
  ],
  [
    'a framing header that Atoll sets per response',
    '{ "headers": { "Content-Length": "10", "transfer-encoding": "chunked" } }',
    [
      `${J}:1:16: headers: "Content-Length" is set by Atoll for each response: remove it`,
      `${J}:1:40: headers: "transfer-encoding" is set by Atoll for each response: remove it`,
    ],
  ],
  [
    'the same header twice in different case',
    '{\n  "headers": {\n    "X-Frame-Options": "DENY",\n    "x-frame-options": "SAMEORIGIN"\n  }\n}',
    [`${J}:2:14: headers: "X-Frame-Options" and "x-frame-options" are the same header (names are case-insensitive): keep one`],
  ],
  [
    'timeout: 2147483648 (over 2^31 ms, setTimeout would fire at once)',
    '{\n  "timeout": 2147483648\n}',
    [`${J}:2:14: timeout: 2147483648 ms is more than 10 minutes: use a duration from 1 ms to 10 minutes`],
  ],
  ['timeout: 0', '{ "timeout": 0 }', [`${J}:1:14: timeout: 0 ms is less than 1 ms: use a duration from 1 ms to 10 minutes`]],
  [
    'timeout: "597h"',
    '{ "timeout": "597h" }',
    [`${J}:1:14: timeout: "597h" is more than 10 minutes: use a duration from 1 ms to 10 minutes`],
  ],
  [
    'timeout: not a duration, negative, NaN-like',
    '{ "timeout": "soon", "remoteHeadDeadline": -5, "sendTimeout": "1e9" }',
    [
      `${J}:1:14: timeout: "soon" is not a duration: use milliseconds (300) or a unit (300ms, 2s, 1m), from 1 ms to 10 minutes`,
      `${J}:1:44: remoteHeadDeadline: -5 is not a duration: use milliseconds (300) or a unit (300ms, 2s, 1m), from 1 ms to 1 minute`,
      `${J}:1:63: sendTimeout: "1e9" is not a duration: use milliseconds (300) or a unit (300ms, 2s, 1m), from 1 s to 10 minutes`,
    ],
  ],
  [
    'the other durations out of their bounds',
    '{ "remoteHeadDeadline": "61s", "sendTimeout": 999, "drainTimeout": "11m" }',
    [
      `${J}:1:25: remoteHeadDeadline: "61s" is more than 1 minute: use a duration from 1 ms to 1 minute`,
      `${J}:1:47: sendTimeout: 999 ms is less than 1 s: use a duration from 1 s to 10 minutes`,
      `${J}:1:68: drainTimeout: "11m" is more than 10 minutes: use a duration from 0 ms to 10 minutes`,
    ],
  ],
  [
    'element entry durations: "597h", 0, a cache that is not a duration',
    '{\n  "elements": {\n    "x-a": { "timeout": "597h", "cache": "a while" },\n    "x-b": { "timeout": 0, "cache": 0 }\n  }\n}',
    [
      `${J}:3:25: elements.x-a.timeout: "597h" is more than 10 minutes: use a duration from 1 ms to 10 minutes`,
      `${J}:3:42: elements.x-a.cache: "a while" is not a duration: use seconds (60) or a unit (60s, 5m, 1h), from 1 s to 365 days`,
      `${J}:4:25: elements.x-b.timeout: 0 ms is less than 1 ms: use a duration from 1 ms to 10 minutes`,
      `${J}:4:37: elements.x-b.cache: 0 s is less than 1 s: use a duration from 1 s to 365 days`,
    ],
  ],
  [
    'cors origins with a path, a trailing slash, a default port, credentials, another scheme, junk',
    '{ "cors": { "origins": [\n  "https://a.example/app",\n  "https://a.example/",\n  "https://a.example:443",\n  "https://u:p@a.example",\n  "ftp://a.example",\n  "not an origin",\n  "*",\n  "http://127.0.0.1:8080"\n] } }',
    [
      `${J}:2:3: cors.origins[0]: "https://a.example/app" is not an origin ${ORIGIN_EXAMPLE}, or "*" for any origin`,
      `${J}:3:3: cors.origins[1]: "https://a.example/" is not written as an origin: write "https://a.example", or "*" for any origin`,
      `${J}:4:3: cors.origins[2]: "https://a.example:443" is not written as an origin: write "https://a.example", or "*" for any origin`,
      `${J}:5:3: cors.origins[3]: "https://u:p@a.example" is not an origin ${ORIGIN_EXAMPLE}, or "*" for any origin`,
      `${J}:6:3: cors.origins[4]: "ftp://a.example" is not an http(s) origin ${ORIGIN_EXAMPLE}, or "*" for any origin`,
      `${J}:7:3: cors.origins[5]: "not an origin" is not an origin ${ORIGIN_EXAMPLE}, or "*" for any origin`,
    ],
  ],
  [
    'cors without origins, and origins that are not an array',
    '{ "cors": {} }',
    [`${J}:1:11: cors: the key "origins" is required`],
  ],
  [
    'publicOrigin: "javascript:alert(1)" and "*"',
    '{\n  "publicOrigin": "javascript:alert(1)"\n}',
    [`${J}:2:19: publicOrigin: "javascript:alert(1)" is not an http(s) origin ${ORIGIN_EXAMPLE}`],
  ],
  ['publicOrigin: "*" is not an origin', '{ "publicOrigin": "*" }', [`${J}:1:19: publicOrigin: "*" is not an origin ${ORIGIN_EXAMPLE}`]],
  [
    'fragment.attributes: event handlers, style, srcdoc, URL sinks, upper case, junk',
    '{ "fragment": { "attributes": ["onclick", "ONFOCUS", "style", "srcdoc", "href", "is", "Data-X", "a b", "data-variant", "autofocus"] } }',
    [
      `${J}:1:32: fragment.attributes[0]: "onclick" is an event-handler attribute, which runs script: it can never be allowed`,
      `${J}:1:43: fragment.attributes[1]: "ONFOCUS": attribute names are matched in lower case: write "onfocus"`,
      `${J}:1:54: fragment.attributes[2]: "style" lets a request restyle, hide or overlay the page (and leak data through CSS): it can never be allowed`,
      `${J}:1:63: fragment.attributes[3]: "srcdoc" holds a whole HTML document, scripts included: it can never be allowed`,
      `${J}:1:73: fragment.attributes[4]: "href" takes a URL, which may be javascript:…: it can never be allowed`,
      `${J}:1:81: fragment.attributes[5]: "is" changes which element the host becomes: it can never be allowed`,
      `${J}:1:87: fragment.attributes[6]: "Data-X": attribute names are matched in lower case: write "data-x"`,
      `${J}:1:97: fragment.attributes[7]: "a b" is not an attribute name: use lower-case letters, digits, "-", "_" and "."`,
      `${J}:1:120: fragment.attributes[9]: "autofocus" makes a focus handler fire without a click: it can never be allowed`,
    ],
  ],
  [
    'port 70000, a fractional port, a negative port',
    '{ "port": 70000 }',
    [`${J}:1:11: port: 70000 is not a port: use an integer from 0 to 65535`],
  ],
  ['a fractional port', '{ "port": 80.5 }', [`${J}:1:11: port: 80.5 is not a port: use an integer from 0 to 65535`]],
  [
    'unknown keys, top level and in an element entry, each at its key',
    '{\n  "timeout": 100,\n  "timout": 200,\n  "elements": { "x-a": { "url": "https://r.example/f", "cahce": "60s" } }\n}',
    [
      `${J}:3:3: unknown config key "timout" (known: ${KNOWN})`,
      `${J}:4:56: elements.x-a: unknown key "cahce" (known: ${ELEMENT_KEYS})`,
    ],
  ],
  [
    'unknown keys in cors, fragment and csp',
    '{ "cors": { "origins": [], "methods": [] }, "fragment": { "attrs": [] }, "csp": { "nonce": true } }',
    [
      `${J}:1:28: cors: unknown key "methods" (known: origins)`,
      `${J}:1:59: fragment: unknown key "attrs" (known: attributes)`,
      `${J}:1:83: csp: unknown key "nonce" (known: policy, reportOnly)`,
    ],
  ],
  [
    'wrong types',
    '{\n  "timeout": true,\n  "headers": ["x-a: 1"],\n  "requestHeaders": "accept-language",\n  "maxRemoteBytes": "2MB",\n  "csp": "yes",\n  "logLevel": "verbose",\n  "layouts": { "/a": 1 },\n  "renderers": [1],\n  "host": 127\n}',
    [
      `${J}:2:14: timeout must be a number of milliseconds or a duration string such as "2s", not true`,
      `${J}:3:14: headers must be an object of header name → value, e.g. { "x-frame-options": "DENY" }, not an array`,
      `${J}:4:21: requestHeaders must be an array of header names, not "accept-language"`,
      `${J}:5:21: maxRemoteBytes must be a number of bytes, not "2MB"`,
      `${J}:6:10: csp must be true, false or { "policy": "…", "reportOnly": true }, not "yes"`,
      `${J}:7:15: logLevel: "verbose" is not a log level: use one of debug, info, warn, error, silent`,
      `${J}:8:22: layouts["/a"] must be a layout file name, not 1`,
      `${J}:9:17: renderers[0] must be an ElementRenderer class, not 1`,
      `${J}:10:11: host must be a host name or address, not 127`,
    ],
  ],
  [
    'sizes: zero, fractional, over 1 GiB',
    '{ "maxRemoteBytes": 0, "maxBufferedBytes": 1073741825 }',
    [
      `${J}:1:21: maxRemoteBytes: 0 is not a whole number of bytes from 1 to 1 GiB (1073741824)`,
      `${J}:1:44: maxBufferedBytes: 1073741825 is not a whole number of bytes from 1 to 1 GiB (1073741824)`,
    ],
  ],
  [
    'requestHeaders that are not header names',
    '{ "requestHeaders": ["accept-language", "x\\ny", 7] }',
    [
      `${J}:1:41: requestHeaders[1]: "x\\ny" is not a valid header name: use letters, digits and !#$%&'*+-.^_\`|~ only`,
      `${J}:1:49: requestHeaders[2] must be a header name, not 7`,
    ],
  ],
  [
    'csp policy with CR/LF, and reportOnly not a boolean',
    '{ "csp": { "policy": "script-src \'self\'\\r\\nX-Evil: 1", "reportOnly": "yes" } }',
    [
      `${J}:1:22: csp.policy: the value contains CR or LF: ${HEADER_ADVICE}`,
      `${J}:1:70: csp.reportOnly must be true or false, not "yes"`,
    ],
  ],
  [
    'element entries: bad tag, not an object, module and url, url not http(s), cacheControl with a control character',
    '{ "elements": {\n  "Bad": {},\n  "x-a": "m",\n  "x-b": { "module": "./b.js", "url": "https://r.example/f" },\n  "x-c": { "url": "javascript:alert(1)" },\n  "x-d": { "url": "https://r.example/f", "cacheControl": "public\\u0000" }\n} }',
    [
      `${J}:2:3: elements: "Bad" is not a valid custom element name (lower case, with a hyphen)`,
      `${J}:3:10: elements.x-a must be an object such as { "module": "…" } or { "url": "…" }, not "m"`,
      `${J}:4:10: elements.x-b: give "module" or "url", not both`,
      `${J}:5:19: elements.x-c.url: "javascript:alert(1)" is not an absolute http(s) URL such as "https://reviews.example/_atoll/fragment/shop-reviews"`,
      `${J}:6:58: elements.x-d.cacheControl: the value contains U+0000, which is not allowed in a header value: ${HEADER_ADVICE}`,
    ],
  ],
  [
    'element URLs that would break the headers or markup they are written into',
    '{ "elements": {\n  "x-a": { "url": "https://r.example/f\\r\\nX-Evil: 1" },\n  "x-b": { "url": "https://r.example/f", "client": "https://cdn.example/b.js\\"><script>" },\n  "x-c": { "url": "https://r.example/f", "client": "javascript:alert(1)" },\n  "x-d": { "url": "https://r.example/f", "client": "https://cdn.example/d.js" },\n  "x-e": { "url": "https://r.example/f", "client": "@acme/ui/e.js" }\n} }',
    [
      `${J}:2:19: elements.x-a.url: "https://r.example/f\\r\\nX-Evil: 1" contains a space, control character, quote, "<", ">" or backslash: percent-encode it (these would break the headers and markup the URL is written into)`,
      `${J}:3:52: elements.x-b.client: "https://cdn.example/b.js\\"><script>" contains a space, control character, quote, "<", ">" or backslash: percent-encode it (these would break the headers and markup the URL is written into)`,
      `${J}:4:52: elements.x-c.client: "javascript:alert(1)" is neither an http(s) URL nor a path or package specifier`,
    ],
  ],
  [
    'layouts: a prefix without a leading slash',
    '{ "layouts": { "admin": "admin.html" } }',
    [`${J}:1:16: layouts: the prefix "admin" must start with "/"`],
  ],
  [
    'prototype-pollution keys: "__proto__", "constructor", "prototype" at any depth',
    '{\n  "__proto__": { "timeout": 1 },\n  "headers": { "constructor": "x", "prototype": "y" },\n  "elements": { "__proto__": { "url": "https://evil.example/f" } }\n}',
    [
      `${J}:2:3: the key "__proto__" is not allowed (it could change object prototypes): remove it`,
      `${J}:3:16: headers: the key "constructor" is not allowed (it could change object prototypes): remove it`,
      `${J}:3:36: headers: the key "prototype" is not allowed (it could change object prototypes): remove it`,
      `${J}:4:17: elements: the key "__proto__" is not allowed (it could change object prototypes): remove it`,
    ],
  ],
  [
    'a key written twice: the last one counts, and is the one reported',
    '{ "timeout": 100, "timeout": 0 }',
    [`${J}:1:30: timeout: 0 ms is less than 1 ms: use a duration from 1 ms to 10 minutes`],
  ],
  ['not an object', '[1, 2]', [`${J}:1:1: the config must be an object (for .ts/.mjs: \`export default defineConfig({ … })\`), not an array`]],
  [
    'a control character in a key is escaped in the message',
    '{ "x\\u001b[31m": 1 }',
    [`${J}:1:3: unknown config key "x\\u001b[31m" (known: ${KNOWN})`],
  ],
];

describe('atoll.config.json: every hostile or invalid value is refused at its line and column', () => {
  for (const [name, text, expected] of invalidJson) {
    test(name, async () => {
      assert.deepEqual(await jsonProblems(text), expected);
    });
  }

  test('a value nested 100,000 deep is one problem, not a stack overflow', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.deepEqual(await jsonProblems(`{ "headers": { "a": ${deep} } }`), [`${J}:1:21: headers.a must be a string, not an array`]);
  });

  test('invalid JSON keeps its line and column', async () => {
    const [p] = await jsonProblems('{\n  "timeout": 1,\n}');
    assert.match(p!, /^atoll\.config\.json:3:1: invalid JSON: /);
  });
});

describe('atoll.config.json: the deploys section refuses hostile or invalid values at their line and column', () => {
  const cases: Array<[string, string[]]> = [
    ['{ "deploys": { "importMap": "https://cdn.example/map.json" } }', [`${J}:1:29: deploys.importMap: the origin "https://cdn.example" is not in deploys.allow (now []): add it there`]],
    ['{ "deploys": { "importMap": "javascript:alert(1)" } }', [`${J}:1:29: deploys.importMap: "javascript:alert(1)" is neither a file path nor an http(s) URL (write a path relative to the site, e.g. "import-map.json")`]],
    [
      '{ "deploys": { "importMap": "map.json", "allow": ["https://cdn.example/path", "*", "ftp://x"] } }',
      [
        `${J}:1:51: deploys.allow[0]: "https://cdn.example/path" is not an origin such as "https://shop.example" or "http://127.0.0.1:8080" (scheme, host and optional port; no path)`,
        `${J}:1:79: deploys.allow[1]: "*" is not an origin such as "https://shop.example" or "http://127.0.0.1:8080" (scheme, host and optional port; no path)`,
        `${J}:1:84: deploys.allow[2]: "ftp://x" is not an http(s) origin such as "https://shop.example" or "http://127.0.0.1:8080" (scheme, host and optional port; no path)`,
      ],
    ],
    [
      '{ "deploys": { "importMap": "map.json", "pollInterval": "10ms", "drainTimeout": -1 } }',
      [
        `${J}:1:57: deploys.pollInterval: 10 ms is too often: use 0 (no polling, only pushes) or a duration from 1s to 24h`,
        `${J}:1:81: deploys.drainTimeout: -1 is not a duration: use milliseconds (300) or a unit (300ms, 2s, 1m), from 1 s to 1 hour`,
      ],
    ],
    [
      '{ "deploys": { "importMap": "map.json", "overrides": { "enabled": "yes", "maxGenerations": 100000, "maxAge": "400d" } } }',
      [
        `${J}:1:67: deploys.overrides.enabled must be true or false, not "yes"`,
        `${J}:1:92: deploys.overrides.maxGenerations: 100000 is not a number of generations from 1 to 32 (each is a worker thread with its own copy of the site)`,
        `${J}:1:110: deploys.overrides.maxAge: "400d" is not a duration: use milliseconds (300) or a unit (300ms, 2s, 1m), from 1 minute to 7 days`,
      ],
    ],
    ['{ "deploys": { "allow": [] } }', [`${J}:1:14: deploys: the key "importMap" is required`]],
    ['{ "deploys": { "importMap": "map.json", "extra": 1 } }', [`${J}:1:41: deploys: unknown key "extra" (known: importMap, allow, pollInterval, cacheDir, drainTimeout, overrides)`]],
  ];
  for (const [text, expected] of cases) {
    test(text, async () => {
      assert.deepEqual(await jsonProblems(text), expected);
    });
  }
});

describe('atoll.config.mjs: problems name the file', () => {
  test('an .mjs config with a bad header and a bad origin', async () => {
    const root = makeSite({
      'atoll.config.mjs': 'export default { headers: { "x-a": "1\\r\\n2" }, cors: { origins: ["https://a.example/"] } };\n',
    });
    const problems = new ProblemList();
    await loadConfig(root, problems);
    assert.deepEqual(problems.errors.map(formatProblem), [
      `atoll.config.mjs: cors.origins[0]: "https://a.example/" is not written as an origin: write "https://a.example", or "*" for any origin`,
      `atoll.config.mjs: headers.x-a: the value contains CR or LF: ${HEADER_ADVICE}`,
    ]);
  });

  test('an .mjs config that exports a Proxy with a throwing getter', async () => {
    const root = makeSite({
      'atoll.config.mjs': 'export default new Proxy({ timeout: 1 }, { get() { throw new Error("trap"); } });\n',
    });
    const problems = new ProblemList();
    await loadConfig(root, problems);
    assert.deepEqual(problems.errors.map(formatProblem), ['atoll.config.mjs: timeout: could not be read: trap']);
  });
});

describe('config given in code: the same schema, reported at (createAtoll config)', () => {
  test('a bad header value, an unknown key and a bad timeout', async () => {
    assert.deepEqual(await codeProblems({ headers: { 'set-cookie': 'a=1\r\nx: y' }, timeOut: 5, timeout: 2 ** 31 }), [
      `${C}: timeout: 2147483648 ms is more than 10 minutes: use a duration from 1 ms to 10 minutes`,
      `${C}: headers.set-cookie: the value contains CR or LF: ${HEADER_ADVICE}`,
      `${C}: unknown config key "timeOut" (known: ${KNOWN})`,
    ]);
  });

  test('a circular object', async () => {
    const config: Record<string, unknown> = { timeout: 100 };
    config.elements = { 'x-a': config };
    const cors: Record<string, unknown> = {};
    cors.origins = [cors];
    config.cors = cors;
    assert.deepEqual(await codeProblems(config), [
      `${C}: elements.x-a: refers back to an object that contains it (a circular structure): the config must be plain data`,
      `${C}: cors.origins[0]: refers back to an object that contains it (a circular structure): the config must be plain data`,
    ]);
  });

  test('the same object used twice is not circular', async () => {
    const entry = { url: 'https://r.example/f' };
    assert.deepEqual(await codeProblems({ elements: { 'x-a': entry, 'x-b': entry } }), []);
  });

  test('a Proxy whose traps throw, a throwing getter, a revoked Proxy', async () => {
    const ownKeysThrows = new Proxy({}, { ownKeys: () => { throw new Error('no keys for you'); } });
    assert.deepEqual(await codeProblems(ownKeysThrows), [`${C}: the config could not be read: no keys for you`]);

    const getterThrows = {
      get timeout(): number {
        throw new Error('getter');
      },
      headers: new Proxy({ a: 'b' }, { get: () => { throw new TypeError('trap'); } }),
    };
    assert.deepEqual(await codeProblems(getterThrows), [`${C}: timeout: could not be read: getter`, `${C}: headers.a: could not be read: trap`]);

    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const problems = await codeProblems({ cors: proxy });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^\(createAtoll config\): cors: could not be read: /);
  });

  test('a Proxy that pretends to be endless is cut off after a bounded number of reads', async () => {
    let reads = 0;
    const endless = (): unknown =>
      new Proxy([], {
        get: (_t, k) => {
          reads++;
          return k === 'length' ? 10_000 : endless();
        },
      });
    assert.deepEqual(await codeProblems({ cors: { origins: endless() } }), [`${C}: the config has more than 200000 values: it must be plain data of a sensible size`]);
    assert.ok(reads < 250_000, `${reads} reads`);
  });

  test('ten thousand problems are listed up to a hundred, then counted', async () => {
    const self: unknown = new Proxy([], { get: (_t, k) => (k === 'length' ? 10_000 : self) });
    const problems = await codeProblems({ cors: { origins: self } });
    assert.equal(problems.length, 101);
    assert.equal(problems[0], `${C}: cors.origins[0]: refers back to an object that contains it (a circular structure): the config must be plain data`);
    assert.equal(problems[100], `${C}: … and 9900 more problems in the config`);
  });

  test('a Proxy that answers differently on each read is read once', async () => {
    let reads = 0;
    const flip = new Proxy({ 'x-a': 'ok' }, { get: () => (reads++ === 0 ? 'ok' : 'bad\r\nvalue') });
    const root = makeSite({});
    const problems = new ProblemList();
    const { config } = resolveConfigSources(await readConfigFile(root, problems), { headers: flip }, problems);
    assert.deepEqual(problems.errors, []);
    assert.deepEqual(config.headers, { 'x-a': 'ok' });
    assert.equal(reads, 1);
  });

  test('prototype-pollution keys and a thrown non-Error with a throwing toString', async () => {
    const polluted = JSON.parse('{ "__proto__": { "polluted": true }, "headers": { "__proto__": "x" } }') as unknown;
    assert.deepEqual(await codeProblems(polluted), [
      `${C}: the key "__proto__" is not allowed (it could change object prototypes): remove it`,
      `${C}: headers: the key "__proto__" is not allowed (it could change object prototypes): remove it`,
    ]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);

    const nasty = { toString: () => { throw new Error('again'); } };
    const weird = { get port(): number { throw nasty; } };
    assert.deepEqual(await codeProblems(weird), [`${C}: port: could not be read: (an unprintable error)`]);
  });

  test('not an object, BigInt and symbol values', async () => {
    assert.deepEqual(await codeProblems('timeout=5'), [`${C}: the config must be an object, not "timeout=5"`]);
    assert.deepEqual(await codeProblems({ timeout: 10n, logLevel: Symbol('x') }), [
      `${C}: timeout must be a number of milliseconds or a duration string such as "2s", not 10n`,
      `${C}: logLevel must be a log level, not a symbol`,
    ]);
  });

  test('merged with the file: each problem is reported where its key was written', async () => {
    const file = '{\n  "timeout": 0,\n  "port": 70000,\n  "elements": {\n    "x-a": { "url": "ftp://a" },\n    "x-b": { "url": "ftp://b" }\n  }\n}';
    assert.deepEqual(await codeProblems({ timeout: 100, elements: { 'x-b': { url: 'https://b.example/f' }, 'x-c': { timeout: -1 } } }, file), [
      `${J}:3:11: port: 70000 is not a port: use an integer from 0 to 65535`,
      `${J}:5:21: elements.x-a.url: "ftp://a" is not an absolute http(s) URL such as "https://reviews.example/_atoll/fragment/shop-reviews"`,
      `${C}: elements.x-c.timeout: -1 is not a duration: use milliseconds (300) or a unit (300ms, 2s, 1m), from 1 ms to 10 minutes`,
    ]);
  });

  test('csp merges by key: `atoll serve --csp` (code csp: {}) keeps the file\'s policy; code keys win', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<p>hi</p>'),
      'atoll.config.json': JSON.stringify({ csp: { policy: "script-src 'nonce-{nonce}'", reportOnly: true } }),
    });
    const kept = await loadSite({ root, config: { csp: {} } });
    assert.deepEqual({ ...kept.config.csp }, { policy: "script-src 'nonce-{nonce}'", reportOnly: true });
    const overridden = await loadSite({ root, config: { csp: { reportOnly: false } } });
    assert.deepEqual({ ...overridden.config.csp }, { policy: "script-src 'nonce-{nonce}'", reportOnly: false });
  });

  test('loadSite refuses a site whose createAtoll config is bad, with every problem', async () => {
    const root = makeSite({ 'layouts/index.html': layout('<p>hi</p>') });
    await assert.rejects(
      loadSite({ root, config: { headers: { 'x-a': 'a\u0001' }, fragment: { attributes: ['onclick'] } } as AtollConfig }),
      (e: unknown) => {
        assert.ok(e instanceof SiteError);
        assert.deepEqual(e.problems.map(formatProblem), [
          `${C}: headers.x-a: the value contains U+0001, which is not allowed in a header value: ${HEADER_ADVICE}`,
          `${C}: fragment.attributes[0]: "onclick" is an event-handler attribute, which runs script: it can never be allowed`,
        ]);
        return true;
      },
    );
  });
});

describe('valid configs resolve to what the engine reads', () => {
  const defaults = {
    timeout: 5000,
    requestHeaders: ['accept-language', 'user-agent'],
    maxRemoteBytes: 2 * 1024 * 1024,
    remoteHeadDeadline: 100,
    sendTimeout: 30_000,
    maxBufferedBytes: 4 * 1024 * 1024,
    drainTimeout: 10_000,
    logLevel: 'info',
  };

  test('no config file: the defaults', async () => {
    const problems = new ProblemList();
    const { config, file } = await loadConfig(makeSite({}), problems);
    assert.equal(file, undefined);
    assert.deepEqual(problems.errors, []);
    assert.deepEqual(config, defaults);
    assert.deepEqual(CONFIG_DEFAULTS, defaults);
  });

  test('every key, durations given as strings and numbers, resolved to ms', async () => {
    const root = makeSite({
      'atoll.config.json': JSON.stringify({
        layouts: { '/admin': 'admin.html' },
        elements: {
          'x-a': { url: 'https://r.example/_atoll/fragment/x-a', timeout: '2s', cache: 60, cacheControl: 'public, max-age=60' },
          'x-b': { module: './b.js', client: 'https://cdn.example/b.js', server: './b.server.js', timeout: 250, cache: '5m' },
        },
        timeout: '1.5s',
        requestHeaders: ['Accept-Language', 'X-Tenant'],
        maxRemoteBytes: 1024,
        cors: { origins: ['https://a.example', 'http://127.0.0.1:8080', '*'] },
        headers: { 'x-frame-options': 'DENY', 'Content-Security-Policy': "default-src 'self'", 'x-latin1': 'caf\u00e9' },
        port: 0,
        host: '0.0.0.0',
        publicOrigin: 'https://shop.example',
        fragment: { attributes: ['data-variant', 'aria-label', 'tabindex'] },
        remoteHeadDeadline: '250ms',
        csp: true,
        sendTimeout: '1m',
        maxBufferedBytes: 65536,
        drainTimeout: 0,
        logLevel: 'warn',
      }),
    });
    const problems = new ProblemList();
    const { config } = await loadConfig(root, problems);
    assert.deepEqual(problems.errors, []);
    assert.deepEqual(config, {
      layouts: { '/admin': 'admin.html' },
      elements: {
        'x-a': { url: 'https://r.example/_atoll/fragment/x-a', timeout: 2000, cache: 60_000, cacheControl: 'public, max-age=60' },
        'x-b': { module: './b.js', client: 'https://cdn.example/b.js', server: './b.server.js', timeout: 250, cache: 300_000 },
      },
      timeout: 1500,
      requestHeaders: ['accept-language', 'x-tenant'],
      maxRemoteBytes: 1024,
      cors: { origins: ['https://a.example', 'http://127.0.0.1:8080', '*'] },
      headers: { 'x-frame-options': 'DENY', 'Content-Security-Policy': "default-src 'self'", 'x-latin1': 'caf\u00e9' },
      port: 0,
      host: '0.0.0.0',
      publicOrigin: 'https://shop.example',
      fragment: { attributes: ['data-variant', 'aria-label', 'tabindex'] },
      remoteHeadDeadline: 250,
      csp: {},
      sendTimeout: 60_000,
      maxBufferedBytes: 65536,
      drainTimeout: 0,
      logLevel: 'warn',
    });
  });

  test('csp: false is absent, an object is kept; bounds are inclusive', async () => {
    const problems = new ProblemList();
    const off = resolveConfigSources(undefined, { csp: false, timeout: 600_000, remoteHeadDeadline: '1m', sendTimeout: '1s', port: 65535 }, problems).config;
    const on = resolveConfigSources(undefined, { csp: { policy: "script-src 'nonce-{nonce}'", reportOnly: true }, timeout: 1 }, problems).config;
    assert.deepEqual(problems.errors, []);
    assert.equal('csp' in off, false);
    assert.deepEqual([off.timeout, off.remoteHeadDeadline, off.sendTimeout, off.port], [600_000, 60_000, 1000, 65535]);
    assert.deepEqual(on.csp, { policy: "script-src 'nonce-{nonce}'", reportOnly: true });
    assert.equal(on.timeout, 1);
  });

  test('code config merges over the file: top-level keys replace, elements merge by tag', async () => {
    const root = makeSite({ 'atoll.config.json': '{ "timeout": 100, "port": 8080, "elements": { "x-a": { "url": "https://a.example/f" }, "x-b": { "url": "https://b.example/f" } } }' });
    const problems = new ProblemList();
    const source = await readConfigFile(root, problems);
    const { config } = resolveConfigSources(source, { timeout: '3s', elements: { 'x-b': { url: 'https://c.example/f', timeout: 50 } } }, problems);
    assert.deepEqual(problems.errors, []);
    assert.equal(config.timeout, 3000);
    assert.equal(config.port, 8080);
    assert.deepEqual(config.elements, { 'x-a': { url: 'https://a.example/f' }, 'x-b': { url: 'https://c.example/f', timeout: 50 } });
  });

  test('the registry reads the resolved durations and cacheControl', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-a></x-a><x-r></x-r>'),
      'elements/x-a/index.ts': litElement('x-a'),
      'atoll.config.json': JSON.stringify({ elements: { 'x-a': { timeout: '2s', cache: 60 }, 'x-r': { url: 'https://r.example/f', cacheControl: 'public, max-age=30' } } }),
    });
    const site = await loadSite({ root, config: { elements: { 'x-a': { timeout: '2s', cache: '1h' } } } });
    const a = site.registry.get('x-a')!;
    const r = site.registry.get('x-r')!;
    assert.deepEqual([a.timeout, a.cache, a.kind], [2000, 3_600_000, 'module']);
    assert.deepEqual([r.kind, r.cacheControl, r.timeout], ['remote', 'public, max-age=30', undefined]);
  });
});

describe('docs/config.md stays true to the schema', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'config.md'), 'utf8');
  const tableKeys = (heading: string): string[] => {
    const section = doc.slice(doc.indexOf(heading));
    const table = section.slice(section.indexOf('| key |'), section.indexOf('\n\n', section.indexOf('| key |')));
    return [...table.matchAll(/^\| `([$A-Za-z]+)` \|/gm)].map((m) => m[1]!);
  };

  test('the key tables list exactly the known keys, in schema order', () => {
    assert.deepEqual(tableKeys('## Keys'), [...CONFIG_KEYS]);
    assert.deepEqual(tableKeys('## Element entries').sort(), [...ELEMENT_ENTRY_KEYS].sort());
  });

  test('the example config is valid', async () => {
    const example = /## Example\n\n```json\n([\s\S]*?)```/.exec(doc)![1]!;
    const problems = new ProblemList();
    const { config } = resolveConfigSources(undefined, JSON.parse(example), problems);
    assert.deepEqual(problems.errors, []);
    assert.equal(config.timeout, 2000);
    assert.deepEqual(config.csp, {});
  });
});
