/**
 * Caller-given URLs that a server will call (functions/shared/outbound-url.ts): an address is judged the same
 * however it is spelled (dotted, one decimal number, hex, octal, short form, IPv4-mapped/compatible/NAT64/6to4 IPv6),
 * and every address of the private, loopback, link-local, shared and reserved ranges is refused in cloud mode.
 * fast-check reports the seed and path of any counterexample, so a failure can be replayed.
 */
import fc from 'fast-check';
import { classifyHost, outboundUrlProblem } from '../../functions/shared/outbound-url';

const CLOUD = { allowLoopback: false };
const LOCAL = { allowLoopback: true };

const toInt = (octets: number[]) => octets.reduce((n, o) => n * 256 + o, 0);
const hex16 = (a: number, b: number) => ((a << 8) | b).toString(16);

/** The spellings WHATWG URL parsing turns into the same IPv4 address. */
function spellings(o: [number, number, number, number]): string[] {
  const [a, b, c, d] = o;
  return [
    `${a}.${b}.${c}.${d}`,
    String(toInt(o)),
    `0x${toInt(o).toString(16)}`,
    `0${a.toString(8)}.0${b.toString(8)}.0${c.toString(8)}.0${d.toString(8)}`,
    `0x${a.toString(16)}.0x${b.toString(16)}.0x${c.toString(16)}.0x${d.toString(16)}`,
    `${a}.${b}.${c * 256 + d}`,
    `${a}.${b}.${c}.${d}.`,
    `[::ffff:${a}.${b}.${c}.${d}]`,
    `[::ffff:${hex16(a, b)}:${hex16(c, d)}]`,
    `[0:0:0:0:0:ffff:${a}.${b}.${c}.${d}]`,
    `[64:ff9b::${hex16(a, b)}:${hex16(c, d)}]`,
    `[2002:${hex16(a, b)}:${hex16(c, d)}::1]`,
  ];
}

const octet = fc.integer({ min: 0, max: 255 });
const anyIPv4 = fc.tuple(octet, octet, octet, octet);

/** Non-public IPv4 ranges (IANA special-purpose registry), each as a prefix and a generator of its addresses. */
const nonPublic = fc.oneof(
  fc.tuple(fc.constant(0), octet, octet, octet),
  fc.tuple(fc.constant(10), octet, octet, octet),
  fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
  fc.tuple(fc.constant(127), octet, octet, octet),
  fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
  fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
  fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
  fc.tuple(fc.constant(198), fc.integer({ min: 18, max: 19 }), octet, octet),
  fc.tuple(fc.integer({ min: 224, max: 255 }), octet, octet, octet),
);

test('an IPv4 address gets the same verdict in every spelling, in cloud and in local mode', () => {
  fc.assert(
    fc.property(anyIPv4, fc.constantFrom('http', 'https'), (address, scheme) => {
      for (const policy of [CLOUD, LOCAL]) {
        const verdicts = spellings(address).map((host) =>
          outboundUrlProblem(`${scheme}://${host}/dlr`, policy),
        );
        // 6to4 and NAT64 always embed the address; mapped forms too: one verdict for all.
        expect(new Set(verdicts).size).toBe(1);
      }
    }),
    { numRuns: 500 },
  );
});

test('every address of a private, loopback, link-local, shared or reserved range is refused in cloud mode', () => {
  fc.assert(
    fc.property(nonPublic, (address) => {
      for (const host of spellings(address)) {
        expect([host, outboundUrlProblem(`https://${host}/dlr`, CLOUD)]).toEqual([host, 'private-address']);
      }
    }),
    { numRuns: 500 },
  );
});

test('unique-local and link-local IPv6 addresses are never allowed, not even in local mode', () => {
  const group = fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16));
  const tail = fc.array(group, { minLength: 3, maxLength: 3 }).map((g) => g.join(':'));
  fc.assert(
    fc.property(fc.integer({ min: 0xfc00, max: 0xfeff }), tail, (first, rest) => {
      // fc00::/7 unique-local, fe00::/9 reserved, fe80::/10 link-local, fec0::/10 site-local: all outside 2000::/3.
      const host = `[${first.toString(16)}::${rest}]`;
      const normalised = new URL(`https://${host}/`).hostname;
      expect(classifyHost(normalised)).toBe('non-public');
      expect(outboundUrlProblem(`https://${host}/`, LOCAL)).toBe('private-address');
    }),
    { numRuns: 300 },
  );
});
