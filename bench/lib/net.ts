/** Small networking helpers shared by the benches that start servers by port. */
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server started by port number). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}
