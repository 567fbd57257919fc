#!/usr/bin/env node
// Runs kdeliver from its TypeScript source; Node >= 24 strips the types itself. An older
// Node on PATH hands over to the Node 24 that `npm ci` installed from the `node` package.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 24 || (major === 24 && minor < 15)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(
      `kdeliver needs Node >= 24.15 (this is ${process.version}); run \`npm ci\` in the repository first.\n`,
    );
    process.exit(6);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

// Node's on-disk cache (NODE_COMPILE_CACHE, else in the temporary directory) keeps the modules
// compiled and their types stripped, keyed by content: with every .ts file found there, a start
// from source takes about half the time and ~15-20 MB less memory. NODE_DISABLE_COMPILE_CACHE=1
// turns it off.
module.enableCompileCache();
// Before anything else loads: the restart replaces this process.
const { restartWithNodeFlags } = await import('../src/node-flags.ts');
restartWithNodeFlags();
const { main } = await import('../src/cli.ts');
await main();
