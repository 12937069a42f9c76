/** Writes extension/icon.png (drawn by lib/extension.ts); the file is committed, so this runs only when it changes. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { extensionIconPng } from '../lib/extension';
import { projectRoot } from '../lib/paths';

const file = path.join(projectRoot(), 'extension', 'icon.png');
writeFileSync(file, extensionIconPng());
console.log(file);
