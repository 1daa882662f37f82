// The state file of background emulators (`raceday emulators start`): where they listen and which
// processes or containers are ours, so `status`, `env`, `stop`, tests and runs can find them.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StartedProcess } from './processes.ts';

export type StrategyName = 'local' | 'containers' | 'external';

export interface EmulatorState {
  readonly version: 1;
  readonly strategy: StrategyName;
  readonly projectId: string;
  readonly spannerInstance: string;
  readonly pubsubHost?: string;
  readonly spannerHost?: string;
  readonly processes: readonly StartedProcess[];
  readonly containerIds: readonly string[];
  readonly startedAt: string;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Directory of state and logs: RACEDAY_STATE_DIR, else `.raceday/emulators` in the repository. */
export function emulatorDir(override?: string): string {
  const base = override ?? process.env.RACEDAY_STATE_DIR;
  return base !== undefined && base !== '' ? join(base, 'emulators') : join(repoRoot, '.raceday', 'emulators');
}

export function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

function isState(value: unknown): value is EmulatorState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<EmulatorState>;
  return v.version === 1 && typeof v.strategy === 'string' && typeof v.projectId === 'string' && Array.isArray(v.processes) && Array.isArray(v.containerIds);
}

/** Reads the state file; a missing or unreadable file is `undefined` (nothing recorded). */
export function readState(dir: string): EmulatorState | undefined {
  const file = stateFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes atomically (rename), so a concurrent reader never sees half a file. */
export function writeState(dir: string, state: EmulatorState): void {
  mkdirSync(dir, { recursive: true });
  const file = stateFile(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

export function removeState(dir: string): void {
  rmSync(stateFile(dir), { force: true });
}
