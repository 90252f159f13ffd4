/**
 * The deploy tools' checks and the import-map edit, in process (fast; the
 * commands end to end, with builds, are test/slow/deploy-tools.test.ts):
 * hostile version names and base URLs are refused with a message, and
 * map edits from many writers at once all land in a map that stays valid.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkBaseUrl, versionProblem } from '../../ssr-server/deploys/element-build.ts';
import { ImportMapCommandError, readEntryFile, removeImportMapEntry, setImportMapEntry } from '../../ssr-server/deploys/import-map-command.ts';
import { parseImportMap } from '../../ssr-server/deploys/import-map.ts';

const dirs: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'atoll-deploy-tools-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('--version and --base-url', () => {
  test('versions: a folder name and a URL segment, nothing to escape', () => {
    for (const ok of ['1', '1.4.0', '2026-12-02', 'v2_rc.1', 'a'.repeat(64), '3f9c1a07d2b4']) assert.equal(versionProblem(ok), undefined, ok);
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', '.hidden', '-x', 'a b', 'a%2fb', 'é', 'a'.repeat(65), 'x\0', 'x\n', '?', '#']) {
      assert.match(versionProblem(bad) ?? '', /^--version ".*": use 1-64 letters, digits/, JSON.stringify(bad));
    }
  });

  test('base URLs: http(s), file: or relative, typed as they will be used', () => {
    const ok: Array<[string, string]> = [
      ['.', '.'],
      ['./', '.'],
      ['/elements/', '/elements'],
      ['https://cdn.example', 'https://cdn.example'],
      ['https://cdn.example/teams/', 'https://cdn.example/teams'],
      ['http://127.0.0.1:4400', 'http://127.0.0.1:4400'],
      ['file:///srv/cdn/', 'file:///srv/cdn'],
      ['https://cdn.example/a%20b', 'https://cdn.example/a%20b'],
    ];
    for (const [input, base] of ok) assert.deepEqual(checkBaseUrl(input), { ok: true, base }, input);
    const bad: Array<[string, RegExp]> = [
      ['', /give a URL/],
      ['https://cdn.example/a b', /a space is not allowed/],
      ['https://cdn.example/"x', /""" is not allowed/],
      ["https://cdn.example/'x", /"'" is not allowed/],
      ['https://cdn.example/<x>', /"<" is not allowed/],
      ['https://cdn.example\\x', /"\\" is not allowed/],
      ['https://cdn.example/\u0000', /a control character \(U\+0000\)/],
      ['https://cdn.example/é', /non-ASCII: escape it, e\.g\. %C3%A9/],
      ['https://cdn.example/?v=1', /"\?" is not allowed/],
      ['https://cdn.example/#x', /"#" is not allowed/],
      ['https://cdn.example/%zz', /a "%" must start an escape/],
      ['javascript:alert(1)', /"javascript:" URLs cannot hold modules/],
      ['data:text/javascript,1', /"data:" URLs cannot hold modules/],
      ['ftp://cdn.example', /"ftp:" URLs cannot hold modules/],
      ['https://user:pw@cdn.example', /credentials do not belong/],
      ['https://', /no host|not a valid URL/],
      ['//cdn.example', /scheme-relative/],
      ['https://cdn.example/' + 'a'.repeat(2001), /longer than 2000 characters/],
    ];
    for (const [input, expected] of bad) {
      const r = checkBaseUrl(input);
      assert.equal(r.ok, false, input);
      assert.match((r as { message: string }).message, expected, input);
    }
  });
});

describe('import-map set and remove, in process', () => {
  const url = (tag: string, which: string): string => `https://cdn.example/${tag}/1/${which}.mjs`;

  test('twenty sets and ten removes started together (one process; other processes: test/slow): each lands, the map stays valid, nothing is left beside it', async () => {
    const dir = fresh();
    const map = join(dir, 'importmap.json');
    const tags = Array.from({ length: 20 }, (_, i) => `team-${i}`);
    const changes = await Promise.all(tags.map((tag) => setImportMapEntry({ map, tag, server: url(tag, 'server'), client: url(tag, 'client') })));
    assert.ok(changes.every((c) => c.changed));
    const parsed = parseImportMap(readFileSync(map, 'utf8'), map);
    assert.deepEqual(Object.keys(parsed.map.elements).sort(), [...tags].sort());
    // Removing half of them at once, too.
    await Promise.all(tags.filter((_, i) => i % 2 === 0).map((tag) => removeImportMapEntry({ map, tag })));
    assert.deepEqual(Object.keys(parseImportMap(readFileSync(map, 'utf8'), map).map.elements).sort(), tags.filter((_, i) => i % 2 === 1).sort());
    assert.deepEqual(readdirSync(dir), ['importmap.json']);
  });

  test('a map that the server would refuse is never written, and a broken one is left as it is', async () => {
    const dir = fresh();
    const map = join(dir, 'importmap.json');
    await setImportMapEntry({ map, tag: 'team-a', server: url('team-a', 'server'), client: url('team-a', 'client') });
    const before = readFileSync(map, 'utf8');
    await assert.rejects(
      setImportMapEntry({ map, tag: 'team-b', server: 'https://cdn.example/s.mjs', client: 'file:///srv/c.mjs' }),
      (e: unknown) => e instanceof ImportMapCommandError && /elements\.team-b\.client: "file:\/\/\/srv\/c\.mjs" is a file: URL/.test(e.message),
    );
    await assert.rejects(setImportMapEntry({ map, tag: '__proto__', server: url('x', 'server'), client: url('x', 'client') }), /not a custom element name/);
    await assert.rejects(setImportMapEntry({ map, tag: 'team-b', server: 'https://cdn.example/', client: url('x', 'client') }), /--server "https:\/\/cdn\.example\/" names a folder/);
    assert.equal(readFileSync(map, 'utf8'), before);

    for (const text of ['', '{', '[]', '{"elements": {"team-a": {"server": "https://cdn.example/s.mjs"}}}', '{"elements": {}, "extra": 1}', '{"elements": {"a-b": {}, "a-b": {}}}']) {
      writeFileSync(map, text);
      await assert.rejects(
        setImportMapEntry({ map, tag: 'team-c', server: url('team-c', 'server'), client: url('team-c', 'client') }),
        (e: unknown) => e instanceof ImportMapCommandError && /importmap\.json:\d+:\d+: [\s\S]*nothing was written; fix it first/.test(e.message),
        JSON.stringify(text),
      );
      assert.equal(readFileSync(map, 'utf8'), text, 'untouched');
    }
  });

  test('relative URLs are checked as the map served over http(s); --map-url checks against that URL', async () => {
    const dir = fresh();
    const map = join(dir, 'importmap.json');
    await setImportMapEntry({ map, tag: 'team-a', server: './team-a/1/server.mjs', client: './team-a/1/client.mjs' });
    // A file: server module in a map with relative client URLs: a network map never names the server's files.
    await assert.rejects(
      setImportMapEntry({ map, tag: 'team-b', server: 'file:///srv/s.mjs', client: './team-b/1/client.mjs' }),
      /file: URL in a map read over the network/,
    );
    // A file map with absolute URLs may name local server modules.
    const fileMap = join(dir, 'local.json');
    await setImportMapEntry({ map: fileMap, tag: 'team-a', server: 'file:///srv/team-a/server.mjs', client: url('team-a', 'client') });
    assert.equal(JSON.parse(readFileSync(fileMap, 'utf8')).elements['team-a'].server, 'file:///srv/team-a/server.mjs');
    await setImportMapEntry({ map, tag: 'team-c', server: '../up/server.mjs', client: '../up/client.mjs', mapUrl: 'https://cdn.example/maps/importmap.json' });
  });

  test('entry.json: read as build --element writes it, refused otherwise', () => {
    const dir = fresh();
    const file = join(dir, 'entry.json');
    writeFileSync(file, JSON.stringify({ tag: 'team-a', version: '1', server: './s.mjs', client: './c.mjs' }));
    assert.deepEqual(readEntryFile(file, 'team-a'), { server: './s.mjs', client: './c.mjs' });
    assert.throws(() => readEntryFile(file, 'team-b'), /is the build of <team-a>, not <team-b>/);
    for (const text of ['nope', '[]', '{"server": 1, "client": "x"}', 'null']) {
      writeFileSync(file, text);
      assert.throws(() => readEntryFile(file, 'team-a'), /--entry .*entry\.json: (not JSON|needs "server" and "client")/, text);
    }
    assert.throws(() => readEntryFile(join(dir, 'missing.json'), 'team-a'), /cannot be read \(ENOENT\)/);
    writeFileSync(file, JSON.stringify({ server: 'x', client: 'y', pad: ' '.repeat(100_000) }));
    assert.throws(() => readEntryFile(file, 'team-a'), /is \d+ bytes: an entry\.json is a few hundred/);
    symlinkSync(dir, join(dir, 'folder.json'));
    assert.throws(() => readEntryFile(join(dir, 'folder.json'), 'team-a'), /cannot be read \(EISDIR\)/);
  });

  test('a folder or a missing folder as the map is a message, not a crash', async () => {
    const dir = fresh();
    await assert.rejects(setImportMapEntry({ map: dir, tag: 'team-a', server: url('a', 'server'), client: url('a', 'client') }), /is a folder: give the import map's file/);
    await assert.rejects(setImportMapEntry({ map: join(dir, 'no', 'map.json'), tag: 'team-a', server: url('a', 'server'), client: url('a', 'client') }), /its folder .* does not exist/);
    await assert.rejects(removeImportMapEntry({ map: join(dir, 'none.json'), tag: 'team-a' }), /has no <team-a> \(it names no elements\)/);
  });
});
