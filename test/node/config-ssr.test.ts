/**
 * The `ssr` config section (`ssr.shims`, `ssr.connectedCallback`,
 * `ssr.importTimeout`) and `elements.<tag>.shims`: bad values are refused at
 * start-up at their line and column, good ones resolve to what the engine
 * reads (shims as a list, the timeout in ms).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProblem, ProblemList } from '../../ssr-server/errors.ts';
import { loadConfig, resolveConfigSources } from '../../ssr-server/site/config.ts';
import { makeSite } from '../helpers.ts';

const J = 'atoll.config.json';

async function jsonConfig(text: string) {
  const root = makeSite({ 'atoll.config.json': text });
  const problems = new ProblemList();
  const { config } = await loadConfig(root, problems);
  return { config, problems: problems.errors.map(formatProblem) };
}

describe('ssr config: refused at the line and column of the value', () => {
  const cases: Array<[string, string, string[]]> = [
    [
      'shims that are not a list (an object, a number)',
      '{\n  "ssr": {\n    "shims": { "lit": true }\n  },\n  "elements": { "x-a": { "module": "./a.js", "shims": 3 } }\n}',
      [
        `${J}:3:14: ssr.shims must be true, false, "lit", "window", a module path or specifier, or a list of them, not an object`,
        `${J}:5:55: elements.x-a.shims must be true, false, "lit", "window", a module path or specifier, or a list of them, not 3`,
      ],
    ],
    [
      'shim entries that are not strings, empty, or hold a control character',
      '{ "ssr": { "shims": ["lit", 1, "", "./a\\u0000.mjs", null] } }',
      [
        `${J}:1:29: ssr.shims[1] must be "lit", "window", a module path or a package specifier, not 1`,
        `${J}:1:32: ssr.shims[2] must be "lit", "window", a module path or a package specifier, not an empty string`,
        `${J}:1:36: ssr.shims[3]: "./a\\u0000.mjs" contains a control character`,
        `${J}:1:53: ssr.shims[4] must be "lit", "window", a module path or a package specifier, not null`,
      ],
    ],
    [
      'connectedCallback: a string, and a list with a bad tag',
      '{ "ssr": { "connectedCallback": "x-a" } }',
      [`${J}:1:33: ssr.connectedCallback must be true, false or a list of tag names, not "x-a"`],
    ],
    [
      'connectedCallback: a bad tag in the list',
      '{ "ssr": {\n  "connectedCallback": ["x-a", "Widget"]\n} }',
      [`${J}:2:32: ssr.connectedCallback[1]: "Widget" is not a valid custom element name (lower case, with a hyphen)`],
    ],
    [
      'importTimeout out of bounds, an unknown key, ssr not an object',
      '{ "ssr": { "importTimeout": "11m", "shim": true } }',
      [
        `${J}:1:29: ssr.importTimeout: "11m" is more than 10 minutes: use a duration from 1 ms to 10 minutes`,
        `${J}:1:36: ssr: unknown key "shim" (known: shims, connectedCallback, importTimeout)`,
      ],
    ],
    ['ssr: a list', '{ "ssr": [true] }', [`${J}:1:10: ssr must be an object such as { "shims": true }, not an array`]],
  ];
  for (const [name, text, expected] of cases) {
    test(name, async () => {
      assert.deepEqual((await jsonConfig(text)).problems, expected);
    });
  }
});

describe('ssr config: valid values resolve', () => {
  test('shims: true is the built-ins; a single entry is a list; false is none', async () => {
    const a = await jsonConfig('{ "ssr": { "shims": true, "importTimeout": "2s", "connectedCallback": true } }');
    assert.deepEqual(a.problems, []);
    assert.deepEqual(a.config.ssr, { shims: ['lit', 'window'], importTimeout: 2000, connectedCallback: true });
    const b = await jsonConfig('{ "ssr": { "shims": "./shims/x.mjs", "connectedCallback": ["x-a", "x-b"] }, "elements": { "x-a": { "module": "./a.js", "shims": false } } }');
    assert.deepEqual(b.problems, []);
    assert.deepEqual(b.config.ssr, { shims: ['./shims/x.mjs'], connectedCallback: ['x-a', 'x-b'] });
    assert.deepEqual(b.config.elements?.['x-a']?.shims, []);
  });

  test('no ssr section: absent (connectedCallback defaults to false where it is read)', async () => {
    const { config, problems } = await jsonConfig('{}');
    assert.deepEqual(problems, []);
    assert.equal(config.ssr, undefined);
  });

  test('config given in code replaces the file\'s ssr section as a whole', () => {
    const problems = new ProblemList();
    const { config } = resolveConfigSources(undefined, { ssr: { shims: ['lit'], connectedCallback: ['x-a'] } }, problems);
    assert.deepEqual(problems.errors, []);
    assert.deepEqual(config.ssr, { shims: ['lit'], connectedCallback: ['x-a'] });
  });
});
