// `raceday run --processes` misuse: off the emulators, with options a fleet day does not take, or
// on a replay, it is a usage error (exit 2) naming the option; never silently ignored.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capture } from './_fixtures/capture.ts';
import { command } from './commands/run.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday run --processes misuse', () => {
  it('refuses the memory backend, --gateway, --variant and replays with exit 2', async () => {
    const memory = await capture(() => command.run(['--processes']));
    expect([memory.code, memory.err.includes('add --backend emulators')]).toEqual([2, true]);
    const gateway = await capture(() => command.run(['--processes', '--backend', 'emulators', '--gateway']));
    expect([gateway.code, gateway.err.includes('--gateway does not go with --processes')]).toEqual([2, true]);
    const variant = await capture(() => command.run(['--processes', '--backend', 'emulators', '--variant', 'b=fanout=user-batch:50']));
    expect([variant.code, variant.err.includes('--variant does not go with --processes')]).toEqual([2, true]);
    const replay = await capture(() => command.run(['--scenario', 'typical-day', '--processes']));
    expect([replay.code, replay.err.includes('--processes applies to --scenario smoke only')]).toEqual([2, true]);
  });
});
