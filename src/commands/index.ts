import Doctor from './doctor.ts';
import SandboxDown from './sandbox/down.ts';
import SandboxEnv from './sandbox/env.ts';
import SandboxUp from './sandbox/up.ts';

/** Every command, by oclif id. Adding a command means adding it here. */
export const COMMANDS = {
  doctor: Doctor,
  'sandbox:up': SandboxUp,
  'sandbox:env': SandboxEnv,
  'sandbox:down': SandboxDown,
};
