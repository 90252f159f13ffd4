/**
 * The client build in a child process (`child.ts` starts it): rollup and its
 * plugins (~90–110 MB that V8 does not give back) load here, never in the
 * serving process, which only reads the manifest the build writes.
 *
 * argv: `<build module URL> <tsx|plain>`. One message in:
 * `{ root, registry: [[tag, definition], …], outDir }` (definitions without
 * their hook functions). One message out: `{ ok: true, manifest, ms }` or
 * `{ ok: false, error }` (the error's name, message, stack and every field
 * that can cross — rollup's `loc`, `frame`, `id`, `plugin`, `code`, … — so
 * the parent rethrows the same error). Then it exits. When the parent goes
 * away (its IPC channel closes: a signal, a crash, SIGKILL), so does this
 * process, before it writes anything more; SIGINT (Ctrl-C, sent to the whole
 * process group) is left to the parent.
 */
process.setSourceMapsEnabled(true);
process.on('disconnect', () => process.exit(1));
// Ctrl-C reaches the whole process group: the server decides (it drains, exits and so ends this
// process), instead of a build that fails with SIGINT while the server is stopping cleanly.
process.on('SIGINT', () => {});
// A parent that went away before the handler above was installed: no event comes any more.
if (!process.connected) process.exit(1);

const [buildModule, loader] = process.argv.slice(2);
// From the repository checkout the build is TypeScript: tsx's loader, registered here only.
if (loader === 'tsx') {
  const { register } = await import('tsx/esm/api');
  register();
}

/** What of an error crosses to the parent: strings, numbers, plain data (a function or a class instance does not). */
function plain(e) {
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return { name: 'Error', message: String(e), thrown: 'value' };
  const out = { name: typeof e.name === 'string' ? e.name : 'Error', message: String(e.message ?? e) };
  if (typeof e.stack === 'string') out.stack = e.stack;
  for (const key of Object.keys(e)) {
    if (key in out || key === 'cause') continue;
    try {
      out[key] = structuredClone(e[key]);
    } catch {
      // not data: left out
    }
  }
  return out;
}

/** Sends `message` and exits once it is written (a pending timer or handle of the build must not hold the process). */
function finish(message) {
  let exited = false;
  const exit = () => {
    if (exited) return;
    exited = true;
    process.exit(0);
  };
  try {
    process.send(message, exit);
  } catch {
    process.exit(1);
  }
  // If the channel never confirms (the parent went away), the disconnect handler ends it.
}

process.once('message', async ({ root, registry, outDir }) => {
  try {
    const { buildClient } = await import(buildModule);
    const built = await buildClient({ root, registry: new Map(registry) }, { outDir });
    finish({ ok: true, manifest: built.manifest, ms: built.ms });
  } catch (e) {
    let error;
    try {
      error = plain(e);
    } catch {
      error = { name: 'Error', message: 'the client build failed with an error that cannot be read' };
    }
    finish({ ok: false, error });
  }
});
// Ready for the site (the parent sends it once this arrives, so no message is lost while tsx registers).
if (!process.connected) process.exit(1);
process.send({ ready: true }, (e) => {
  if (e) process.exit(1);
});
