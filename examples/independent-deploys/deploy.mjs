#!/usr/bin/env node
/**
 * Team Greeting's deploy, as its CI would run it: build one release of
 * `<team-greeting>` from team/, upload it to the CDN folder, and make it the
 * live version in the server import map — three steps, two of them Atoll
 * commands:
 *
 *   atoll build --element team-greeting --root <team> --out <build>
 *   (copy <build>/team-greeting/<version>/ to the CDN)
 *   atoll import-map set team-greeting --entry <…>/entry.json --map <cdn>/importmap.json
 *
 *   node examples/independent-deploys/deploy.mjs <release> [--cdn-dir DIR]
 *
 * The release name (v1, v2, …) is stamped into a copy of team/ (its
 * elements/team-greeting/release.ts), so each release is different code;
 * the version folder is the build's content hash, so deploying the same
 * release twice uploads nothing new. Environment: CDN_DIR.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const atoll = join(here, '..', '..', 'bin', 'atoll.mjs');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'cdn-dir': { type: 'string' } } });
const release = positionals[0];
if (release === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(release)) {
  console.error('usage: node deploy.mjs <release> [--cdn-dir DIR]   (a release name such as v2: letters, digits, ".", "_", "-")');
  process.exit(2);
}
const cdnDir = values['cdn-dir'] ?? process.env.CDN_DIR ?? join(here, '.atoll', 'cdn');
const shown = (p) => relative(process.cwd(), p) || '.';
const run = (args) => {
  console.log(`$ atoll ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  execFileSync(process.execPath, [atoll, ...args], { stdio: 'inherit' });
};

// The team's source at this release (its CI would check out a commit).
const source = join(here, '.atoll', 'releases', release);
rmSync(source, { recursive: true, force: true });
cpSync(join(here, 'team'), source, { recursive: true });
writeFileSync(join(source, 'elements', 'team-greeting', 'release.ts'), `export const RELEASE = ${JSON.stringify(release)};\n`);

// 1. Build: <out>/team-greeting/<version>/{server.mjs,client.mjs,entry.json}.
const out = join(source, '.atoll', 'out');
run(['build', '--element', 'team-greeting', '--root', shown(source), '--out', shown(out)]);
const [version] = readdirSync(join(out, 'team-greeting'));
const built = join(out, 'team-greeting', version);

// 2. Upload (here: a copy into the folder cdn.mjs serves). Versions are immutable: an existing one stays.
const target = join(cdnDir, 'team-greeting', version);
if (existsSync(target)) console.log(`(the CDN has ${shown(target)} already: same code, nothing to upload)`);
else {
  console.log(`$ cp -r ${shown(built)} ${shown(target)}`);
  cpSync(built, target, { recursive: true });
}

// 3. Go live: the server import map names the new version (written atomically).
run(['import-map', 'set', 'team-greeting', '--entry', shown(join(built, 'entry.json')), '--map', shown(join(cdnDir, 'importmap.json'))]);
const entry = JSON.parse(readFileSync(join(built, 'entry.json'), 'utf8'));
console.log(`deployed <team-greeting> release ${release} as version ${entry.version}`);
