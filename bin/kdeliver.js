#!/usr/bin/env node
// Runs kdeliver from its TypeScript source; Node >= 24 strips the types itself. An older
// Node on PATH hands over to the Node 24 that `npm ci` installed from the `node` package.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

const { main } = await import('../src/cli.ts');
await main();
