/**
 * Walk-through of an agent handover against a running local stack (`npm start`): starts nothing itself, prints
 * every step with the curl line that does the same (the steps: lib/evidence/handover-demo.ts).
 *
 * Environment (the same names and defaults as bin/local.ts, so one `export` serves both):
 *   GATEWAY_URL                     the stack's API (default http://127.0.0.1:$PORT, PORT default 3000)
 *   LOCAL_API_KEY                   x-api-key (default local-dev-key)
 *   CHAT_GATEWAY_SIMULATOR_URL      or CHAT_GATEWAY_SIMULATOR_PORT: the Chat Gateway simulator (see the banner)
 *   COGNIGY_SIMULATOR_URL           or COGNIGY_SIMULATOR_PORT: the Cognigy Endpoint simulator (see the banner)
 *   DEMO_TIMEOUT_MS                 how long to wait for each step (default 15000)
 *
 *   CHAT_GATEWAY_SIMULATOR_PORT=4020 COGNIGY_SIMULATOR_PORT=4030 npm start          # terminal 1
 *   CHAT_GATEWAY_SIMULATOR_PORT=4020 COGNIGY_SIMULATOR_PORT=4030 npx tsx bin/handover-demo.ts   # terminal 2
 */
import { DemoError, demoConfig, runHandoverDemo } from '../lib/evidence/handover-demo';

Promise.resolve()
  .then(() => runHandoverDemo(demoConfig(process.env), (line) => console.log(line)))
  .catch((error: unknown) => {
    if (error instanceof DemoError) console.error(`\n${error.message}`);
    else console.error('\nThe walk-through failed:', error);
    process.exit(1);
  });
