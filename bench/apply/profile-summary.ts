/**
 * The top functions of a V8 CPU profile (`node --cpu-prof`), by self and by total time, with
 * the idle share: enough to see where a kdeliver run spends its time without DevTools.
 *
 *   node bench/apply/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const [file] = positionals;
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N]');
const top = Number(values.top);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const label = ({ callFrame }: ProfileNode): string => {
  const where = callFrame.url.replace(/^file:\/\/.*?\/(src|node_modules)\//, '$1/');
  return `${callFrame.functionName || '(anonymous)'} ${where ? `${where}:${callFrame.lineNumber + 1}` : ''}`;
};

// Each sample's time is the delta to the next sample.
const selfMs = new Map<string, number>();
const totalMs = new Map<string, number>();
profile.samples.forEach((id, index) => {
  const ms = (profile.timeDeltas[index + 1] ?? 0) / 1000;
  const leaf = byId.get(id);
  if (!leaf) return;
  selfMs.set(label(leaf), (selfMs.get(label(leaf)) ?? 0) + ms);
  const onStack = new Set<string>();
  for (let node: ProfileNode | undefined = leaf; node; node = byId.get(parentOf.get(node.id) ?? -1))
    onStack.add(label(node));
  for (const name of onStack) totalMs.set(name, (totalMs.get(name) ?? 0) + ms);
});

const wallMs = (profile.endTime - profile.startTime) / 1000;
const table = (title: string, times: Map<string, number>): string =>
  [
    title,
    ...[...times]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, ms]) =>
          `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / wallMs).toFixed(1).padStart(5)}%  ${name}`,
      ),
  ].join('\n');
process.stdout.write(
  `${file}: ${wallMs.toFixed(0)} ms wall\n\n${table('self time', selfMs)}\n\n${table('total time', totalMs)}\n`,
);
