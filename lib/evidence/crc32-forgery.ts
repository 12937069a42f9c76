/**
 * Crafts a body with a chosen CRC32, as an attacker holding a captured 8x8 signature would (8x8 signs the CRC32 of
 * the body, not the body). CRC32 is affine over GF(2): flipping one bit of the message flips a fixed pattern of
 * CRC bits, whatever the other bits are. So in a run of filler letters `a`/`c` (they differ in one bit) each
 * position is one switch, and choosing switches that XOR to (current CRC ⊕ target) is a 32-bit linear system.
 */
import { crc32 } from 'node:zlib';

const FILLER_LENGTH = 64;

/**
 * Returns `prefix + filler + suffix` whose UTF-8 CRC32 equals `targetCrc`; the filler is FILLER_LENGTH characters
 * of `a` and `c`, so it fits inside a JSON string.
 */
export function forgeCrc32(prefix: string, suffix: string, targetCrc: number): string {
  const build = (switches: boolean[]) => prefix + switches.map((on) => (on ? 'c' : 'a')).join('') + suffix;
  const off = Array.from({ length: FILLER_LENGTH }, () => false);
  const baseCrc = crc32(Buffer.from(build(off), 'utf8')) >>> 0;
  const effects = off.map((_, i) => {
    const one = [...off];
    one[i] = true;
    return (crc32(Buffer.from(build(one), 'utf8')) ^ baseCrc) >>> 0;
  });
  const chosen = solveGf2(effects, (baseCrc ^ targetCrc) >>> 0);
  if (!chosen) throw new Error('No CRC32 collision with this filler (try a longer one)');
  const forged = build(chosen);
  if (crc32(Buffer.from(forged, 'utf8')) >>> 0 !== targetCrc >>> 0) throw new Error('CRC32 forgery failed');
  return forged;
}

/** Which columns (32-bit vectors) XOR to `target`: Gaussian elimination over GF(2). */
function solveGf2(columns: number[], target: number): boolean[] | undefined {
  // Each pivot row: a reduced vector and the set of columns that XOR to it.
  const pivots: { vector: number; uses: boolean[] }[] = [];
  columns.forEach((column, index) => {
    let vector = column;
    const uses = columns.map((_, j) => j === index);
    for (const pivot of pivots) {
      if (highBit(pivot.vector) & vector) {
        vector = (vector ^ pivot.vector) >>> 0;
        pivot.uses.forEach((u, j) => (uses[j] = uses[j] !== u));
      }
    }
    if (vector !== 0) pivots.push({ vector, uses });
    pivots.sort((a, b) => b.vector - a.vector);
  });
  let rest = target >>> 0;
  const chosen = columns.map(() => false);
  for (const pivot of pivots) {
    if (highBit(pivot.vector) & rest) {
      rest = (rest ^ pivot.vector) >>> 0;
      pivot.uses.forEach((u, j) => (chosen[j] = chosen[j] !== u));
    }
  }
  return rest === 0 ? chosen : undefined;
}

function highBit(value: number): number {
  return value === 0 ? 0 : 2 ** Math.floor(Math.log2(value >>> 0));
}
