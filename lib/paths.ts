import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FunctionName } from '../functions/shared/catalogue';

/** The repository root: the nearest directory upwards from the working directory that holds cdk.json. */
export function projectRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, 'cdk.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No cdk.json found above ${start}`);
    dir = parent;
  }
}

/** Source file of a function's handler (exporting `handler`). */
export function functionEntry(name: FunctionName, root: string = projectRoot()): string {
  return path.join(root, 'functions', name, 'handler.ts');
}
