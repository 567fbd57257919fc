import Apply from './apply.ts';
import Build from './build.ts';
import Compile from './compile.ts';
import Destroy from './destroy.ts';
import Doctor from './doctor.ts';
import History from './history.ts';
import Init from './init.ts';
import Inspect from './inspect.ts';
import Install from './install.ts';
import KclRun from './kcl/run.ts';
import KeysGenerate from './keys/generate.ts';
import Preview from './preview.ts';
import Rollback from './rollback.ts';
import SandboxDown from './sandbox/down.ts';
import SandboxEnv from './sandbox/env.ts';
import SandboxUp from './sandbox/up.ts';
import StateExport from './state/export.ts';
import StatePull from './state/pull.ts';
import StatePush from './state/push.ts';
import StateUnlock from './state/unlock.ts';
import Status from './status.ts';
import SupportBundle from './support-bundle.ts';
import Uninstall from './uninstall.ts';
import Upgrade from './upgrade.ts';
import Verify from './verify.ts';

/** Every command, by oclif id. Adding a command means adding it here. */
export const COMMANDS = {
  apply: Apply,
  build: Build,
  compile: Compile,
  destroy: Destroy,
  doctor: Doctor,
  history: History,
  init: Init,
  inspect: Inspect,
  install: Install,
  'kcl:run': KclRun,
  'keys:generate': KeysGenerate,
  preview: Preview,
  rollback: Rollback,
  'sandbox:up': SandboxUp,
  'sandbox:env': SandboxEnv,
  'sandbox:down': SandboxDown,
  'state:pull': StatePull,
  'state:push': StatePush,
  'state:export': StateExport,
  'state:unlock': StateUnlock,
  status: Status,
  'support-bundle': SupportBundle,
  uninstall: Uninstall,
  upgrade: Upgrade,
  verify: Verify,
};
