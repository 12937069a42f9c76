/**
 * Builds the Cognigy Extension (extension/): compiles extension/src with TypeScript to CommonJS into `build/` and
 * packs the archive Cognigy's *Upload Extension* takes: build/, package.json, package-lock.json, icon.png and
 * README.md at the top of a .tar.gz (the layout of Cognigy's own extensions). `npm run extension` builds in
 * extension/ itself; tests build into a directory of their own so parallel runs never share files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { projectRoot } from './paths';

export const EXTENSION_ARCHIVE = 'cognigy-8x8-bridge.tar.gz';
/** What the archive holds, at its top level. */
export const EXTENSION_ARCHIVE_ENTRIES = [
  'build',
  'package.json',
  'package-lock.json',
  'icon.png',
  'README.md',
];

export interface ExtensionBuild {
  /** The directory the archive was packed from (build/ and the copied files). */
  dir: string;
  archive: string;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`,
    );
}

/** Compiles and packs the extension; `outDir` (default extension/) receives build/ and dist/<archive>. */
export function buildExtension(options: { outDir?: string; root?: string } = {}): ExtensionBuild {
  const root = options.root ?? projectRoot();
  const source = path.join(root, 'extension');
  const dir = path.resolve(options.outDir ?? source);
  const buildDir = path.join(dir, 'build');
  rmSync(buildDir, { recursive: true, force: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', path.join(source, 'tsconfig.json'), '--outDir', buildDir], root);
  if (dir !== source) {
    mkdirSync(dir, { recursive: true });
    for (const file of EXTENSION_ARCHIVE_ENTRIES.filter((entry) => entry !== 'build'))
      copyFileSync(path.join(source, file), path.join(dir, file));
  }
  const archive = path.join(dir, 'dist', EXTENSION_ARCHIVE);
  mkdirSync(path.dirname(archive), { recursive: true });
  rmSync(archive, { force: true });
  run('tar', ['-czf', archive, '-C', dir, ...EXTENSION_ARCHIVE_ENTRIES], root);
  return { dir, archive };
}

// ---------------------------------------------------------------------------------------------------------------
// The icon (extension/icon.png, written by bin/extension-icon.ts): a 64×64 PNG drawn here, so no binary comes from
// elsewhere. A navy rounded square with a white speech bubble holding three dots in 8x8 red.

const SIZE = 64;

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** Inside a rounded rectangle [x0, x1] × [y0, y1] with corner radius r (pixel centres). */
function inRoundedRect(
  x: number,
  y: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  r: number,
): boolean {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function pixel(x: number, y: number): [number, number, number, number] {
  const px = x + 0.5;
  const py = y + 0.5;
  if (!inRoundedRect(px, py, 0, 0, SIZE, SIZE, 12)) return [0, 0, 0, 0];
  const navy: [number, number, number, number] = [20, 33, 87, 255];
  const white: [number, number, number, number] = [255, 255, 255, 255];
  const red: [number, number, number, number] = [230, 36, 41, 255];
  // The bubble's tail: a triangle below its left side.
  const tail = py >= 40 && py <= 52 && px >= 16 && px <= 28 && px - 16 <= 52 - py;
  if (!inRoundedRect(px, py, 10, 14, 54, 42, 10) && !tail) return navy;
  for (const dotX of [22, 32, 42]) if ((px - dotX) ** 2 + (py - 28) ** 2 <= 16) return red;
  return white;
}

export function extensionIconPng(): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < SIZE; y++) {
    const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0 (None), then RGBA
    for (let x = 0; x < SIZE; x++) Buffer.from(pixel(x, y)).copy(row, 1 + x * 4);
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
