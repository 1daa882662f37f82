// `raceday worker` misuse is a usage error (exit 2) with one line naming the problem: an unknown
// role, no role, no project, --port on a role that serves nothing, a project nobody provisioned
// (refused at once instead of subscribing to nothing and waiting forever).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { capture } from '../_fixtures/capture.ts';
import { command } from './worker.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday worker misuse', () => {
  it('refuses an unknown role, a missing role or project, and --port off ingest, with exit 2', async () => {
    const unknown = await capture(() => command.run(['--role', 'banker', '--project', 'p']));
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('--role must be one of ingest, fanout, settle, post-settle, notify, dead-letters, got "banker"');
    const noRole = await capture(() => command.run(['--project', 'p']));
    expect(noRole.code).toBe(2);
    expect(noRole.err).toContain('--role is required');
    const noProject = await capture(() => command.run(['--role', 'settle']));
    expect(noProject.code).toBe(2);
    expect(noProject.err).toContain('--project P is required');
    const port = await capture(() => command.run(['--role', 'settle', '--project', 'p', '--port', '8080']));
    expect(port.code).toBe(2);
    expect(port.err).toContain('--port applies to --role ingest only');
    const broken = await capture(() => command.run(['--role', 'settle', '--project', 'p', '--broken', 'no-exactly-once']));
    expect(broken.code).toBe(2);
    expect(broken.err).toContain('--broken must be one of');
  });
});

describeWithEmulators('raceday worker on a project nobody provisioned', () => {
  useEmulators(); // their hosts in PUBSUB_EMULATOR_HOST / SPANNER_EMULATOR_HOST, where a worker looks first

  it('exits 2 naming what is missing instead of waiting on nothing', async () => {
    const project = `raceday-missing-${randomUUID().slice(0, 8)}`;
    // Its own process: a worker leaves with process.exit once refused.
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs'), 'worker', '--role', 'settle', '--project', project], { env: process.env });
    const r = { out: '', err: '' };
    child.stdout.on('data', (d) => (r.out += String(d)));
    child.stderr.on('data', (d) => (r.err += String(d)));
    const closed = once(child, 'close') as Promise<[number]>;
    // A worker that did not refuse would wait forever: never leave it behind the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = await closed;
    clearTimeout(timer);
    expect(code).toBe(2);
    expect(r.err).toContain(`project ${project} is not provisioned`);
    expect(r.err).toContain('subscription settle-requests-settle');
    expect(r.out).not.toContain('"ready"');
  });
});
