/**
 * A static HTTP server on 127.0.0.1 standing in for a CDN in the deploys
 * tests: fixed answers per path, with what hostile or broken hosts do
 * (redirects, huge or endless bodies, headers that never come, a body that
 * trickles), and a count of requests per path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One path's answer. */
export type Route =
  | { body: string | Buffer; status?: number; headers?: Record<string, string>; delayMs?: number }
  | { redirect: string; status?: number }
  /** Sends the head, then `chunk` every `everyMs` forever (or until `total` bytes). */
  | { trickle: string; everyMs: number; total?: number; headers?: Record<string, string> }
  /** Never answers. */
  | { hang: true };

export interface Cdn {
  origin: string;
  routes: Map<string, Route>;
  /** Requests per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startCdn(routes: Record<string, Route> = {}): Promise<Cdn> {
  const table = new Map(Object.entries(routes));
  const hits = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = table.get(path);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if ('hang' in route) return;
    if ('redirect' in route) {
      res.writeHead(route.status ?? 302, { location: route.redirect }).end();
      return;
    }
    if ('trickle' in route) {
      res.writeHead(200, { 'content-type': 'text/javascript', ...route.headers });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(route.trickle);
        sent += route.trickle.length;
        if (route.total !== undefined && sent >= route.total) {
          clearInterval(timer);
          res.end();
        }
      }, route.everyMs);
      timers.add(timer);
      return;
    }
    const send = (): void => {
      res.writeHead(route.status ?? 200, { 'content-type': 'text/javascript', ...route.headers }).end(route.body);
    };
    if (route.delayMs === undefined) send();
    else timers.add(setTimeout(send, route.delayMs));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    routes: table,
    hits,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
