/**
 * The gateway under test, in its own process as in production: exactly what `gatehouse
 * serve` does (src/cli/commands/serve.ts: loadConfig, configuredClock, startGatehouse), with
 * the shipped logger writing to this process's stdout (the parent sends it to /dev/null).
 * Tells the parent its URL over IPC and stops on the message 'stop'.
 */
import { loadConfig } from '../../src/config/config.js';
import { configuredClock } from '../../src/config/configured-clock.js';
import { startGatehouse } from '../../src/wiring.js';

const config = loadConfig(process.env, process.cwd());
const gatehouse = await startGatehouse(config, configuredClock(config.clock));
process.send?.({ url: gatehouse.url });
process.on('message', (message) => {
  if (message === 'stop') {
    void gatehouse.close().finally(() => process.exit(0));
  }
});
