/**
 * `atoll override`: the developer's side of per-developer overrides
 * (overrides.ts, docs/deploys.md "Overrides").
 *
 * - `atoll override sign <tag> --server URL --client URL [--max-age 8h]`
 *   signs a cookie value locally with `ATOLL_OVERRIDE_SECRET`, checked
 *   against the site's `deploys` config (`--root`/`--config`: its `allow`
 *   and `overrides.maxAge`), for curl and scripts.
 * - `atoll override set <tag> --url SITE --server URL --client URL` and
 *   `atoll override clear [<tag>] --url SITE` post to the site's
 *   `/_atoll/deploys/overrides` with the deploy token (`--token`, else
 *   `ATOLL_DEPLOY_TOKEN`); `--cookie VALUE` starts from an existing
 *   override (set adds to it, clear removes one tag from it).
 *
 * The cookie value goes to stdout alone (an empty line when cleared), so
 * `$(atoll override sign …)` works; what to do with it goes to stderr.
 */
import { resolve } from 'node:path';
import { ProblemList, formatProblem } from '../errors.ts';
import { parseDuration } from '../layout/attributes.ts';
import { loadConfig } from '../site/config.ts';
import { DEPLOY_TOKEN_ENV, OVERRIDES_PATH } from './overrides-endpoint.ts';
import { OVERRIDE_SECRET_ENV, OverrideError, createOverrides } from './overrides.ts';
import { OVERRIDE_COOKIE } from './types.ts';

/** Where the command writes and what it reads (tests give their own). */
export interface OverrideIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

const defaultIo: OverrideIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

/** The options (cli.ts's command table lists them, with the help text). */
type Values = Partial<Record<'server' | 'client' | 'max-age' | 'url' | 'token' | 'cookie' | 'root' | 'config', string | undefined>>;

/** Runs `atoll override <args…>` (the positionals after `override`); returns the exit code. */
export async function runOverride(args: readonly string[], values: Values, io: OverrideIo = defaultIo): Promise<number> {
  const [action, tag, extra] = args;
  const usage = (message: string): number => {
    io.err(`atoll override: ${message} (atoll override --help)\n`);
    return 2;
  };
  if (action !== 'sign' && action !== 'set' && action !== 'clear') return usage(action === undefined ? 'give sign, set or clear' : `unknown action "${action}": sign, set or clear`);
  if (extra !== undefined) return usage(`unexpected argument "${extra}"`);
  if (action !== 'clear' && (tag === undefined || values.server === undefined || values.client === undefined)) {
    return usage(`${action} needs <tag>, --server and --client`);
  }
  let maxAge: number | undefined;
  if (values['max-age'] !== undefined) {
    maxAge = parseDuration(values['max-age'], 'ms');
    if (maxAge === undefined || maxAge < 1000) return usage(`--max-age takes a duration such as 30m or 8h, not "${values['max-age']}"`);
  }
  return action === 'sign' ? sign(tag!, values, maxAge, io) : post(action, tag, values, io);
}

async function sign(tag: string, values: Values, maxAge: number | undefined, io: OverrideIo): Promise<number> {
  const root = resolve(values.root ?? '.');
  const problems = new ProblemList();
  const loaded = await loadConfig(root, problems, values.config === undefined ? undefined : resolve(values.config));
  if (problems.errors.length > 0) {
    for (const p of problems.errors) io.err(`${formatProblem(p)}\n`);
    return 1;
  }
  const deploys = loaded.config.deploys;
  if (deploys === undefined) {
    io.err(`atoll override sign: the config of ${root} has no deploys section (docs/deploys.md): the server would not read the cookie\n`);
    return 1;
  }
  if (!deploys.overrides.enabled) io.err('warning: deploys.overrides.enabled is off in this config: the server ignores the cookie until it is on\n');
  try {
    const overrides = createOverrides({ secret: io.env[OVERRIDE_SECRET_ENV] ?? '', allow: deploys.allow, maxAge: deploys.overrides.maxAge });
    const value = overrides.sign({ [tag]: { server: values.server!, client: values.client! } }, maxAge);
    io.out(`${value}\n`);
    io.err(`signed for ${Math.round((maxAge ?? overrides.maxAge) / 60_000)} min; e.g. curl -b '${OVERRIDE_COOKIE}=<the value>' <site>/\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof OverrideError)) throw e;
    io.err(`atoll override sign: ${e.message}\n`);
    return 1;
  }
}

async function post(action: 'set' | 'clear', tag: string | undefined, values: Values, io: OverrideIo): Promise<number> {
  if (values.url === undefined) return usageError(io, `${action} needs --url SITE (the site's origin)`);
  let site: URL;
  try {
    site = new URL(values.url);
    if (site.protocol !== 'http:' && site.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return usageError(io, `--url takes the site's http(s) origin, not "${values.url}"`);
  }
  const token = values.token ?? io.env[DEPLOY_TOKEN_ENV];
  if (token === undefined || token === '') return usageError(io, `give the deploy token: --token or ${DEPLOY_TOKEN_ENV}`);
  const form = new URLSearchParams({ token, action, tag: tag ?? '' });
  if (action === 'set') {
    form.set('server', values.server!);
    form.set('client', values.client!);
    if (values['max-age'] !== undefined) form.set('maxAge', values['max-age']);
  }
  const endpoint = new URL(OVERRIDES_PATH, site);
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
  if (values.cookie !== undefined) headers.cookie = `${OVERRIDE_COOKIE}=${values.cookie}`;
  let response: Response;
  try {
    response = await fetch(endpoint, { method: 'POST', headers, body: form.toString(), redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    io.err(`atoll override ${action}: ${endpoint.href} could not be reached (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message})\n`);
    return 1;
  }
  const text = await response.text().catch(() => '');
  let body: { error?: unknown; entries?: unknown; expires?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: a 404 from a server without overrides, a proxy's page
  }
  if (response.status === 404) {
    io.err(`atoll override ${action}: ${endpoint.href} answered 404: overrides are not enabled there (deploys.overrides.enabled)\n`);
    return 1;
  }
  if (!response.ok) {
    io.err(`atoll override ${action}: ${response.status} ${typeof body.error === 'string' ? body.error : response.statusText}\n`);
    return 1;
  }
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith(`${OVERRIDE_COOKIE}=`));
  if (cookie === undefined) {
    io.err(`atoll override ${action}: the answer set no ${OVERRIDE_COOKIE} cookie\n`);
    return 1;
  }
  const value = cookie.slice(OVERRIDE_COOKIE.length + 1).split(';')[0]!;
  io.out(`${value}\n`);
  const entries = body.entries !== null && typeof body.entries === 'object' ? Object.keys(body.entries) : [];
  if (value === '') {
    io.err(`cleared. In a browser: open ${endpoint.href} and press Clear (the cookie is HttpOnly: page scripts cannot change it)\n`);
  } else {
    io.err(
      `overrides: ${entries.join(', ')}${typeof body.expires === 'string' ? `, until ${body.expires}` : ''}\n` +
        `Set-Cookie: ${cookie}\n` +
        `curl: curl -b '${OVERRIDE_COOKIE}=${value}' ${site.origin}/\n` +
        `In a browser: open ${endpoint.href} and set it there with the token (or add the cookie in the developer tools)\n`,
    );
  }
  return 0;
}

function usageError(io: OverrideIo, message: string): number {
  io.err(`atoll override: ${message} (atoll override --help)\n`);
  return 2;
}
