/** node:http helpers shared by the local stand-ins: loopback-only listening and a close that does not hang. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 (port 0 = a free one) and resolves with the bound port. */
export function listenLocal(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections and closes idle keep-alive sockets at once; requests in progress get a short
 * grace period to finish before their sockets are closed too, so stop() never waits on a client.
 */
export function closeServer(server: Server, graceMs = 1_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const grace = setTimeout(() => server.closeAllConnections(), graceMs);
    grace.unref();
    server.close((error) => {
      clearTimeout(grace);
      if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
