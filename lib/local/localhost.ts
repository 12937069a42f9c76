import dns from 'node:dns';

/**
 * fauxqs names queues `http://sqs.<region>.localhost:<port>/<account>/<name>`. The SQS client sends each call to
 * its QueueUrl's host, so `*.localhost` has to resolve; RFC 6761 §6.3 reserves it for loopback, but not every
 * resolver honours that. While a local stack runs, `dns.lookup` answers 127.0.0.1 for `*.localhost` names
 * (reference-counted; every other name goes to the real resolver). Each function sandbox (lib/local/sandbox.ts) is a
 * worker thread with its own `dns` module, so it installs this too.
 */
let localhostPatchRefs = 0;
let originalLookup: typeof dns.lookup | undefined;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;

export function installLocalhostResolution(): () => void {
  if (localhostPatchRefs++ === 0) {
    const original = dns.lookup;
    originalLookup = original;
    const patched = (hostname: string, options: unknown, callback?: unknown): unknown => {
      const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
      if (typeof hostname === 'string' && hostname.toLowerCase().endsWith('.localhost')) {
        const all =
          typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
        process.nextTick(() =>
          all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4),
        );
        return {};
      }
      return (original as (...args: unknown[]) => unknown).call(dns, hostname, options, callback);
    };
    dns.lookup = patched as unknown as typeof dns.lookup;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--localhostPatchRefs === 0 && originalLookup) {
      dns.lookup = originalLookup;
      originalLookup = undefined;
    }
  };
}
