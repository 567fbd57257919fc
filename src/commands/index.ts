import Build from './build.ts';
import Compile from './compile.ts';
import Doctor from './doctor.ts';
import Init from './init.ts';
import Inspect from './inspect.ts';
import KclRun from './kcl/run.ts';
import KeysGenerate from './keys/generate.ts';
import SandboxDown from './sandbox/down.ts';
import SandboxEnv from './sandbox/env.ts';
import SandboxUp from './sandbox/up.ts';
import Verify from './verify.ts';

/** Every command, by oclif id. Adding a command means adding it here. */
export const COMMANDS = {
  build: Build,
  compile: Compile,
  doctor: Doctor,
  init: Init,
  inspect: Inspect,
  'kcl:run': KclRun,
  'keys:generate': KeysGenerate,
  'sandbox:up': SandboxUp,
  'sandbox:env': SandboxEnv,
  'sandbox:down': SandboxDown,
  verify: Verify,
};
