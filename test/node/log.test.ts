/**
 * Logging: levels (the JSON logger, `--log-level`, `site.config.logLevel`)
 * and values that are built to break loggers. Whatever a hook rejects with
 * or puts into a log field, `errorFields` never throws and a log call writes
 * exactly one valid JSON line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorFields, filterLogger, jsonLogger, memoryLogger, safeString, silentLogger, writesAt, type Logger, type LogLevel } from '../../ssr-server/log.ts';
import { layout, litElement, makeSite, runCli } from '../helpers.ts';

/** Values that break naive loggers, each with a name. */
function hostileValues(): Array<[string, unknown]> {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  circular.list = [circular, { back: circular }];
  const nullProto = Object.create(null) as Record<string, unknown>;
  nullProto.message = 'no prototype';
  const throwingToString = { toString: () => { throw new Error('toString says no'); } };
  const throwingGetter = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('getter says no'); } });
  const allTraps = new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('every trap throws'); } }));
  const errorWithHostileMessage = Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('no message'); } });
  const errorProxy = new Proxy(new Error('proxied'), { get: () => { throw new Error('no'); }, getPrototypeOf: () => { throw new Error('no'); } });
  return [
    ['circular', circular],
    ['null prototype', nullProto],
    ['throwing toString', throwingToString],
    ['throwing getter', throwingGetter],
    ['Proxy throwing on every trap', allTraps],
    ['BigInt', 10n ** 30n],
    ['object with a BigInt', { n: 1n }],
    ['10 MB string', 'x'.repeat(10 * 1024 * 1024)],
    ['Symbol', Symbol('s')],
    ['Error with a throwing message getter', errorWithHostileMessage],
    ['Proxy around an Error', errorProxy],
    ['deep nesting', JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown],
    ['undefined', undefined],
    ['null', null],
    ['function', () => 1],
    ['NaN', NaN],
  ];
}

describe('errorFields and log lines with hostile values', () => {
  for (const [name, value] of hostileValues()) {
    test(`${name}: errorFields does not throw and gives a small JSON-safe object`, () => {
      const fields = errorFields(value);
      const text = JSON.stringify(fields);
      assert.ok(text.length < 300_000, `${text.length} characters`);
      assert.equal(typeof (JSON.parse(text) as { err: { message?: unknown } }).err, 'object');
    });

    test(`${name}: a log line carrying it is one valid JSON line`, () => {
      const lines: string[] = [];
      const logger = jsonLogger((l) => lines.push(l));
      logger.error({ requestId: 'r1', value, ...errorFields(value) }, 'element failed');
      assert.equal(lines.length, 1);
      assert.ok(lines[0]!.endsWith('\n') && lines[0]!.indexOf('\n') === lines[0]!.length - 1, 'exactly one line');
      const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.equal(parsed.level, 'error');
      assert.equal(parsed.msg, 'element failed');
      assert.equal(parsed.requestId, 'r1');
      assert.ok(lines[0]!.length < 300_000, `${lines[0]!.length} characters`);
    });
  }

  test('what the placeholders say', () => {
    const lines: string[] = [];
    const logger = jsonLogger((l) => lines.push(l));
    const [, circular] = hostileValues()[0]!;
    const [, getter] = hostileValues()[3]!;
    logger.warn({ circular, big: 12345678901234567890n, getter, long: 'y'.repeat(100_000) }, 'm');
    const line = JSON.parse(lines[0]!) as { circular: { self: string }; big: string; getter: { boom: string }; long: string };
    assert.equal(line.circular.self, '[Circular]');
    assert.equal(line.big, '12345678901234567890n');
    assert.equal(line.getter.boom, '[Thrown]');
    assert.ok(line.long.length < 20_000 && line.long.endsWith('more characters]'), 'a huge string is cut with a note');
    assert.equal(safeString({ toString: () => { throw new Error('no'); } }), '[object Object]');
    assert.equal(safeString(Object.create(null)), '[object Object]');
    assert.equal((errorFields(new TypeError('bad')).err as { name: string; message: string }).message, 'bad');
  });

  test('fields cannot overwrite time, level or msg, and a throwing write is swallowed', () => {
    const lines: string[] = [];
    jsonLogger((l) => lines.push(l)).info({ level: 'fake', msg: 'fake', time: 0 }, 'real');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'real');
    assert.notEqual(line.time, 0);
    assert.doesNotThrow(() => jsonLogger(() => { throw new Error('EPIPE'); }).error({}, 'x'));
  });
});

describe('log levels', () => {
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
  for (const level of levels) {
    test(`jsonLogger at ${level} writes only lines at ${level} or above`, () => {
      const lines: string[] = [];
      const logger = jsonLogger((l) => lines.push(l), { level });
      logger.debug({}, 'd');
      logger.info({}, 'i');
      logger.warn({}, 'w');
      logger.error({}, 'e');
      const written = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
      const expected = ['d', 'i', 'w', 'e'].slice(levels.indexOf(level));
      assert.deepEqual(written, expected);
    });
  }

  test('the level can change after the logger is made (once the site config is read); junk is ignored', () => {
    const lines: string[] = [];
    const logger = jsonLogger((l) => lines.push(l));
    assert.equal(logger.level, 'info');
    logger.debug({}, 'hidden');
    logger.level = 'debug';
    logger.debug({}, 'shown');
    logger.level = 'loud' as LogLevel;
    assert.equal(logger.level, 'debug');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['shown']);
  });

  test('filterLogger puts a level in front of an operator logger without one (debug is optional)', () => {
    const inner = memoryLogger();
    const { debug: _omit, ...withoutDebug } = inner;
    const logger = filterLogger(withoutDebug, 'warn');
    logger.debug?.({}, 'd');
    logger.info({}, 'i');
    logger.warn({}, 'w');
    assert.deepEqual(inner.lines.map((l) => l.msg), ['w']);
    const debugging = filterLogger(withoutDebug, 'debug');
    assert.doesNotThrow(() => debugging.debug?.({}, 'no debug method'));
  });

  test('atoll render: --log-level filters the JSON lines, the config\'s logLevel applies without it, and the flag wins', async () => {
    const files = {
      'layouts/index.html': layout('<x-fails><p>fallback</p></x-fails>'),
      'elements/x-fails/index.ts': litElement('x-fails'),
      'elements/x-fails/server.ts': 'export function data() { throw new Error("data is down"); }\n',
    };
    const root = makeSite(files);
    const byDefault = await runCli(['render', '/', '--root', root]);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.match(byDefault.stderr, /"level":"error"[^\n]*data is down/);
    const silent = await runCli(['render', '/', '--root', root, '--log-level', 'silent']);
    assert.equal(silent.code, 0);
    assert.doesNotMatch(silent.stderr, /"level"/);
    assert.match(silent.stdout, /fallback/);
    const errorsOnly = await runCli(['render', '/', '--root', root, '--log-level', 'error']);
    assert.match(errorsOnly.stderr, /data is down/);
    const bad = await runCli(['render', '/', '--root', root, '--log-level', 'loud']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--log-level takes one of debug, info, warn, error, silent, not "loud"/);

    const configured = makeSite({ ...files, 'atoll.config.json': '{ "logLevel": "silent" }\n' });
    const quiet = await runCli(['render', '/', '--root', configured]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /data is down/, 'logLevel "silent" in the config');
    const flagWins = await runCli(['render', '/', '--root', configured, '--log-level', 'error']);
    assert.match(flagWins.stderr, /data is down/);
  });
});

describe('writesAt: whether a line at a level is worth building', () => {
  test('follows the logger\'s own level, as it changes; a logger without one is written to', () => {
    assert.equal(writesAt(silentLogger, 'error'), false);
    const json = jsonLogger(() => {}, { level: 'warn' });
    assert.equal(writesAt(json, 'info'), false);
    assert.equal(writesAt(json, 'warn'), true);
    json.level = 'debug';
    assert.equal(writesAt(json, 'info'), true, 'a level changed after start-up counts at once');
    assert.equal(writesAt(filterLogger(memoryLogger(), 'error'), 'info'), false);
    assert.equal(writesAt(memoryLogger(), 'debug'), true);
    const hostile = { info() {}, warn() {}, error() {}, get level(): LogLevel { throw new Error('no'); } } as Logger;
    assert.equal(writesAt(hostile, 'info'), true, 'a level that cannot be read: written, as before');
    assert.equal(writesAt({ info() {}, warn() {}, error() {}, level: 'loud' as LogLevel }, 'info'), true);
  });
});
