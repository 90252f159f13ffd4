/**
 * `examples/two-teams/` stays working: the recs server's element renders
 * inside the shell's page through the remote registry entry, and the recs
 * server answers its fragment with CORS for the plain page's origin. (Ports
 * are free ones here; the example's config names 4100 and 3000.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { repoRoot, serveSite, type TestServer } from '../helpers.ts';

const example = (team: string): string => join(repoRoot, 'examples', 'two-teams', team);
let recs: TestServer;
let shell: TestServer;

before(async () => {
  recs = await serveSite({ root: example('recs') });
  shell = await serveSite({
    root: example('shell'),
    config: { elements: { 'recs-list': { url: `${recs.url}/_atoll/fragment/recs-list`, client: `${recs.url}/_atoll/element/recs-list.js` } } },
  });
});
after(async () => {
  await shell.close();
  await recs.close();
});

test("the shell's page holds its own header and the recs team's list, both server-rendered", async () => {
  const res = await shell.get('/');
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<shell-header[^>]*><template shadowrootmode="open">[\s\S]*Lagoon Goods/);
  assert.match(html, /<recs-list atoll-key="[0-9a-z]+" category="books"[^>]*><template shadowrootmode="open">[\s\S]*The Reef Almanac[\s\S]*<\/recs-list>/);
  assert.match(html, /data-atoll-props>\[\{"items":/);
  assert.doesNotMatch(html, /atoll-fallback/);
});

test('the recs fragment allows the plain page of embed.html, and not other origins', async () => {
  const allowed = await recs.get('/_atoll/fragment/recs-list?category=garden', { headers: { origin: 'http://127.0.0.1:5000' } });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://127.0.0.1:5000');
  assert.match(await allowed.text(), /Copper watering can/);
  const other = await recs.get('/_atoll/fragment/recs-list', { headers: { origin: 'http://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  await other.arrayBuffer();
});
