/**
 * A child process for the concurrency and crash tests: writes releases into a state file,
 * `count` of them, or forever when count is 0, printing a line after each.
 */
import { StateStore } from '../../../src/state/store.ts';

const [path, stack = 'app', countArg = '0'] = process.argv.slice(2);
const count = Number(countArg);
const store = await StateStore.open(path!, { create: true });
for (let i = 0; count === 0 || i < count; i++) {
  const release = await store.startRelease({
    project: 'shop',
    stack: stack,
    packageDigest: `sha256:${String(i).padStart(64, '0')}`,
    operator: `writer-${process.pid}`,
    variables: { i, padding: 'x'.repeat(2_000) },
  });
  await store.appendJournal([
    {
      record: {
        releaseId: release.id,
        step: 'apply',
        resourceId: `v1:ConfigMap:shop:c${i}`,
        action: 'create',
        phase: 'begin',
        result: undefined,
        error: undefined,
        at: new Date().toISOString(),
      },
    },
  ]);
  process.stdout.write(`${release.revision}\n`);
}
store.close();
