#!/usr/bin/env node
// The `raceday` command: makes sure it runs on the pinned Node 24 (the `node` devDependency),
// registers tsx so the TypeScript sources run as they are, then hands over to cli/main.ts.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR && process.env.RACEDAY_NODE_REEXEC === undefined) {
  // Started by an older system Node (e.g. `node bin/raceday.mjs`): re-run on the pinned one.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const pinned = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`raceday needs Node ${REQUIRED_MAJOR}; run "npm ci" to install the pinned Node, or use Node ${REQUIRED_MAJOR}.\n`);
    process.exit(2);
  }
  // Asynchronously, so a signal sent to this process reaches the one doing the work: blocked in a
  // spawnSync, SIGTERM ended this wrapper alone and the command ran on, orphaned. SIGTERM and SIGHUP
  // are passed on; a terminal's Ctrl-C (SIGINT) reaches the whole foreground group, the child
  // included, so it is only kept from ending this wrapper early (passed on, it would be a second
  // Ctrl-C, which makes a command leave without cleaning up).
  const child = spawn(pinned, process.argv.slice(1), { stdio: 'inherit', env: { ...process.env, RACEDAY_NODE_REEXEC: '1' } });
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  process.on('SIGINT', () => undefined);
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0))));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}

