/**
 * The interactive install, driven through a real terminal: tmux runs `kdeliver install`
 * of a package built from the scaffolded Konfig repo, and the test answers the variable
 * prompts (the site's domain, and the database password, which must be masked) and the
 * confirmation by sending keys, reading the screen with capture-pane.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeScaffold } from '../../src/kcl/project/scaffold.ts';
import { CLI, buildSigned, runCliOk, runProgram } from '../helpers/cli.ts';
import { kubectl, kubectlJson } from '../helpers/kubectl.ts';
import { makeImage, pushImage, type RegistryTarget } from '../helpers/oci-images.ts';
import { unique } from '../helpers/release.ts';

const env = () => inject('sandboxEnv');
const source = (): RegistryTarget => ({
  host: env().KDELIVER_SOURCE_REGISTRY!,
  ca: env().KDELIVER_SOURCE_REGISTRY_CA!,
});

const DOMAIN = 'shop.tmux.example';
const PASSWORD = 'tmux-typed-password-5519';

let work: string;
let session: string;
let stackEnv: string;
let project: string;
let pkg: string;

function tmux(args: string[]) {
  return runProgram('tmux', args);
}

async function screen(): Promise<string> {
  return (await tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', session])).stdout;
}

/** Waits until the terminal shows what `wanted` looks for, then returns the screen. */
async function waitFor(wanted: RegExp | ((text: string) => boolean), timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await screen();
    if (typeof wanted === 'function' ? wanted(shown) : wanted.test(shown)) return shown;
    if (Date.now() > deadline)
      throw new Error(`the terminal never showed ${String(wanted)}; it shows:\n${shown}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kdeliver-tmux-'));
  session = unique('kdeliver');
  stackEnv = unique('tmux');
  project = unique('tmuxshop');
  const prefix = unique('tmux');
  writeScaffold(join(work, 'konfig'));
  for (const name of ['web', 'api', 'worker'])
    await pushImage(source(), `${prefix}/shop/${name}`, '1.0', [
      await makeImage({ os: 'linux', architecture: 'amd64' }, [8 * 1024]),
    ]);
  const cliEnv = { ...process.env, ...env(), DOCKER_CONFIG: work };
  await writeFile(join(work, 'config.json'), '{"auths":{}}');
  await runCliOk(['keys', 'generate', '--out', work], { env: cliEnv });
  pkg = join(work, 'shop.tar.zst');
  await buildSigned(
    [
      join(work, 'konfig', 'shop', 'dev'),
      '-D',
      `image_registry=${source().host}/${prefix}`,
      '-D',
      `env=${stackEnv}`,
      '--name',
      project,
    ],
    { keyDir: work, out: pkg, env: cliEnv },
  );
});

afterAll(async () => {
  await tmux(['kill-session', '-t', session]);
  await kubectl(['delete', 'namespace', `shop-${stackEnv}`, '--wait=false']);
  await rm(work, { recursive: true, force: true });
});

describe('kdeliver install at a terminal', () => {
  it('asks for the variables (the password masked) and the confirmation, then installs with them', async () => {
    const variables = Object.entries({ ...env(), DOCKER_CONFIG: work }).map(
      ([name, value]) => `${name}=${value}`,
    );
    const command = [
      'env',
      ...variables,
      process.execPath,
      CLI,
      'install',
      pkg,
      '--key',
      join(work, 'kdeliver.pub'),
      '--state',
      join(work, 'state.db'),
    ]
      .map((word) => `'${word.replaceAll("'", `'\\''`)}'`)
      .join(' ');
    const started = await tmux([
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '220',
      '-y',
      '50',
      `${command}; echo "EXIT=$?"; sleep 600`,
    ]);
    expect(started.code, started.stderr).toBe(0);

    // Each prompt is answered once, in whatever order the installer asks.
    const answers = new Map([
      ['Public host name of the shop', DOMAIN],
      ['Password of the shop database', PASSWORD],
      ['Apply these changes to stack dev?', 'y'],
    ]);
    while (answers.size > 0) {
      const shown = await waitFor((text) => [...answers.keys()].some((question) => text.includes(question)));
      const question = [...answers.keys()].find((q) => shown.includes(q))!;
      if (question.startsWith('Apply')) expect(shown).toContain('Plan:');
      await tmux(['send-keys', '-t', session, answers.get(question)!, 'Enter']);
      answers.delete(question);
    }
    const finished = await waitFor(/EXIT=\d+/, 180_000);
    expect(finished, finished).toContain('EXIT=0');
    // What was typed for the password never shows; the domain was echoed as typed.
    expect(finished).not.toContain(PASSWORD);
    expect(finished).toContain(DOMAIN);

    const web = await kubectlJson(['get', 'deployment', 'web', '-n', `shop-${stackEnv}`]);
    const webEnv = web.spec.template.spec.containers[0].env as { name: string; value: string }[];
    expect(webEnv).toContainEqual({ name: 'PUBLIC_URL', value: `https://${DOMAIN}` });
    const secret = await kubectlJson(['get', 'secret', 'api-db', '-n', `shop-${stackEnv}`]);
    expect(Buffer.from(secret.data.password as string, 'base64').toString()).toBe(PASSWORD);

    // The state records the domain as given and the password as its digest only.
    const state = await readFile(join(work, 'state.db'));
    expect(state.includes(Buffer.from(PASSWORD))).toBe(false);
    const history = await runProgram('sqlite3', [
      join(work, 'state.db'),
      `select variables from releases where project = '${project}'`,
    ]);
    const recorded = JSON.parse(history.stdout) as Record<string, string>;
    expect(recorded.domain).toBe(DOMAIN);
    expect(recorded.db_password).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
