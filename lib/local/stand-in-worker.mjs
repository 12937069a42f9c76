/**
 * Runs one AWS stand-in (fauxqs for SQS, dynalite for DynamoDB) on a worker thread of the local stack's process.
 * Loading them (fastify, LevelDB) and serving their requests then uses the other core instead of delaying the
 * gateway and the functions on the main thread. Plain JavaScript so Node loads it natively under tsx and Jest.
 *
 * workerData: { kind: 'sqs' | 'dynamodb', port: number, region: string }
 * Posts { ready: true, port } once listening (or { error }); on the message 'stop' closes and posts { stopped: true }.
 */
import { parentPort, workerData } from 'node:worker_threads';

async function startSqs(port, region) {
  const { buildApp } = await import('fauxqs');
  // Queue URLs become http://sqs.<region>.localhost:<port>/...; buildApp + listen keeps fauxqs on the loopback
  // interface (startFauxqs would bind 0.0.0.0).
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: region });
  await app.listen({ port, host: '127.0.0.1' });
  return { port: app.server.address().port, close: () => app.close() };
}

async function startDynamoDb(port) {
  const { default: dynalite } = await import('dynalite');
  // Tables become ACTIVE at once instead of after dynalite's default 500 ms in CREATING.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main() {
  const { kind, port, region } = workerData;
  let service;
  try {
    service = kind === 'sqs' ? await startSqs(port, region) : await startDynamoDb(port);
  } catch (error) {
    parentPort.postMessage({ error: { message: String(error?.message ?? error), code: error?.code } });
    return;
  }
  parentPort.on('message', (message) => {
    if (message !== 'stop') return;
    service.close().then(
      () => parentPort.postMessage({ stopped: true }),
      (error) =>
        parentPort.postMessage({ stopped: true, error: { message: String(error?.message ?? error) } }),
    );
  });
  parentPort.postMessage({ ready: true, port: service.port });
}

main();
