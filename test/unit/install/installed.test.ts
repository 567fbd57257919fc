import { describe, expect, it } from 'vitest';
import { isKdeliverError } from '../../../src/errors.ts';
import { checkInstallMode } from '../../../src/install/install-package.ts';
import {
  chooseProject,
  installedStacks,
  rollbackTarget,
  type CountedRelease,
} from '../../../src/install/installed.ts';
import { approvalReason, wantsRollback } from '../../../src/install/stack-release.ts';
import type { Release, ReleasePhase } from '../../../src/state/releases.ts';
import { deployment } from '../engine/resources.ts';

function release(revision: number, phase: ReleasePhase, resources = 3, stack = 'app'): CountedRelease {
  return {
    release: {
      id: revision,
      project: 'shop',
      stack,
      revision,
      packageDigest: `sha256:${revision}`,
      package: undefined,
      phase,
      operator: 'ops',
      startedAt: '2026-11-23T00:00:00.000Z',
      finishedAt: undefined,
      variables: {},
      error: undefined,
    } satisfies Release,
    resources,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (isKdeliverError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('rollbackTarget', () => {
  it('goes back to the newest succeeded revision before the current one', () => {
    const history = [release(4, 'failed'), release(3, 'succeeded'), release(2, 'succeeded')];
    expect(rollbackTarget(history, undefined).revision).toBe(3);
    expect(
      rollbackTarget([release(3, 'succeeded'), release(2, 'failed'), release(1, 'succeeded')], undefined)
        .revision,
    ).toBe(1);
  });

  it('can return to a rolled-back revision, never to an uninstall or a failed one', () => {
    expect(rollbackTarget([release(3, 'succeeded'), release(2, 'rolled-back')], undefined).revision).toBe(2);
    expect(
      codeOf(() => rollbackTarget([release(3, 'succeeded'), release(2, 'succeeded', 0)], undefined)),
    ).toBe('NO_PREVIOUS_REVISION');
    expect(codeOf(() => rollbackTarget([release(2, 'succeeded'), release(1, 'failed')], 1))).toBe(
      'REVISION_NOT_RESTORABLE',
    );
    expect(codeOf(() => rollbackTarget([release(2, 'succeeded')], 7))).toBe('REVISION_UNKNOWN');
    expect(rollbackTarget([release(2, 'succeeded'), release(1, 'succeeded')], 1).revision).toBe(1);
  });
});

describe('installed stacks and projects', () => {
  it('counts a stack as installed while its newest release has resources', () => {
    const stacks = installedStacks([release(2, 'succeeded', 0, 'a'), release(5, 'failed', 2, 'b')]);
    expect(stacks.map((r) => r.stack)).toEqual(['b']);
  });

  it('takes the only project, and asks when there are several or none', () => {
    expect(chooseProject(['shop'], undefined, 'state.db')).toBe('shop');
    expect(codeOf(() => chooseProject(['shop', 'crm'], undefined, 'state.db'))).toBe('PROJECT_AMBIGUOUS');
    expect(codeOf(() => chooseProject([], undefined, 'state.db'))).toBe('NOTHING_INSTALLED');
    expect(codeOf(() => chooseProject(['shop'], 'crm', 'state.db'))).toBe('PROJECT_NOT_INSTALLED');
  });

  it('refuses an install over another package and an upgrade of nothing; the same package may run again', () => {
    const verified = { name: 'shop', version: '2', digest: 'sha256:new', verifiedKey: null, bytes: 1 };
    expect(
      codeOf(() =>
        checkInstallMode('install', 'shop', verified, [{ stack: 'app', packageDigest: 'sha256:old' }]),
      ),
    ).toBe('ALREADY_INSTALLED');
    expect(
      codeOf(() =>
        checkInstallMode('install', 'shop', verified, [{ stack: 'app', packageDigest: 'sha256:new' }]),
      ),
    ).toBeUndefined();
    expect(codeOf(() => checkInstallMode('upgrade', 'shop', verified, []))).toBe('NOT_INSTALLED');
    expect(
      codeOf(() =>
        checkInstallMode('upgrade', 'shop', verified, [{ stack: 'app', packageDigest: 'sha256:old' }]),
      ),
    ).toBeUndefined();
  });
});

describe('app pipeline settings', () => {
  const web = deployment('shop', 'web', {
    extensions: { kdeliver: { app: 'web', manualApprove: true, rollbackIfFailed: false } },
  });
  const api = deployment('shop', 'api', { extensions: { kdeliver: { app: 'api', rollbackIfFailed: true } } });

  it('names the apps that need a person to approve', () => {
    expect(approvalReason([web, api])).toBe('the pipeline of web requires manual approval');
    expect(approvalReason([api])).toBeUndefined();
  });

  it('rolls back only when a failed resource belongs to an app that asks for it', () => {
    expect(wantsRollback([web, api], [api.id])).toBe(true);
    expect(wantsRollback([web, api], [web.id])).toBe(false);
    expect(wantsRollback([web, api], [])).toBe(false);
  });
});
