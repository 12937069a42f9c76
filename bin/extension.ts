/**
 * `npm run extension`: compiles the Cognigy Extension and writes extension/dist/cognigy-8x8-bridge.tar.gz, the file
 * to upload in Cognigy.AI (Manage → Extensions → Upload Extension).
 */
import { buildExtension } from '../lib/extension';

const { archive } = buildExtension();
console.log(archive);
