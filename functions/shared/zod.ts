/**
 * The zod every function uses: `zod/mini` (the functional API over the same core), which bundles to about a
 * quarter of classic `zod`. Import it as `import * as z from './zod'`, never from 'zod' itself, so no
 * Lambda bundle pulls in the classic API.
 *
 * Unlike classic zod, zod/mini loads no locale, so every issue message would be just "Invalid input". Error
 * answers and logs quote zod's messages (e.g. "Invalid input: expected string, received number"), so the English
 * locale classic zod uses is configured here, once, before any schema parses.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
// jitless: zod would otherwise compile a parser per object schema (new Function) on its first parse, which every
// cold start pays for and a function instance that parses a few bodies a second never earns back; validation is
// the same either way (npm run bench, issue 13).
config({ jitless: true });

export * from 'zod/mini';
