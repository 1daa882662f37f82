// Every misuse of the command line, run through the real `raceday` (bin/raceday.mjs in a child
// process): exit code 2, ONE line on stderr that names the problem and what to do, no stack
// trace, and nothing run. Options are honoured or refused, never silently ignored.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'raceday-misuse-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function raceday(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'raceday.mjs'), ...args], { cwd: root, encoding: 'utf8', env, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2, nothing on stdout, exactly one stderr line matching `message`, and no stack trace. */
function expectMisuse(args: string[], message: RegExp, env?: NodeJS.ProcessEnv): void {
  const r = raceday(args, env);
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('raceday command-line misuse', () => {
  it('an option where a value belongs is a missing value, not the value', () => {
    expectMisuse(['run', '--scenario', '--json'], /--scenario needs a value, got the option --json/);
    expectMisuse(['generate', '--out', '--json', '--scenario', 'smoke'], /--out needs a value/);
  }, 60_000);

  it('a repeated option is refused instead of silently overwriting the first', () => {
    expectMisuse(['sim', '--seed', '1', '--seed', '2'], /option --seed given more than once/);
    expectMisuse(['payout', '--file', 'a', '--file', 'b'], /option --file given more than once/);
  }, 60_000);

  it('bench memory refuses a stray argument instead of running without it', () => {
    expectMisuse(['bench', 'memory', '--users', '10', '--tickets', '10', 'extra'], /unexpected argument "extra"/);
  }, 60_000);

  it.each([
    ['--users', '10'],
    ['--fanout', 'single-worker'],
    ['--notify', 'outbox'],
    ['--workers', '2'],
    ['--strategy', 'local'],
    ['--project', 'p'],
  ])('run with a generated scenario refuses %s (a smoke-only option) instead of ignoring it', (option, value) => {
    expectMisuse(['run', '--scenario', 'typical-day', option, value], new RegExp(`${option} applies to --scenario smoke only`));
  }, 60_000);

  it('options that do not apply to the chosen backend are refused', () => {
    expectMisuse(['run', '--strategy', 'local'], /--strategy is emulator-only: it applies to --backend emulators only/);
    expectMisuse(['run', '--project', 'p'], /--project applies to --backend emulators or google/);
    expectMisuse(['run', '--backend', 'emulators', '--spanner-instance', 'i'], /--spanner-instance applies to --backend google only/);
  }, 60_000);

  it('a value outside the allowed set names the allowed values', () => {
    expectMisuse(['run', '--backend', 'postgres'], /--backend must be one of memory, emulators, google, got "postgres"/);
    expectMisuse(['sim', '--settle-path', 'rows', '--seed', '1'], /--settle-path must be one of objects, columns/);
    expectMisuse(['emulators', 'status', 'now'], /unexpected argument "now"/);
  }, 60_000);

  it('options of another action or target are refused, and a missing bench target is one line', () => {
    expectMisuse(['emulators', 'stop', '--strategy', 'local'], /--strategy applies to "emulators start" only/);
    expectMisuse(['emulators', 'env', '--json'], /--json applies to "emulators status" only/);
    expectMisuse(['bench'], /raceday bench: missing target \(one of .*memory/);
    expectMisuse(['sim', '--seed', '3', '--from', '5'], /--from applies to --seeds/);
  }, 60_000);

  it('generate into a missing directory says so in one line (no stack trace, exit 2)', () => {
    expectMisuse(['generate', '--scenario', 'smoke', '--out', '/no/dir/x'], /cannot write --out \/no\/dir\/x: directory \/no\/dir does not exist/);
  }, 60_000);

  it('run on Google Cloud without credentials says how to log in (no uncaught stack trace, exit 2)', () => {
    // No key file, no gcloud login under this HOME, and not on Google Compute Engine.
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, METADATA_SERVER_DETECTION: 'none', RACEDAY_STATE_DIR: join(home, 'state') };
    expectMisuse(['run', '--backend', 'google', '--project', 'p'], /no Google Cloud credentials for project p.*gcloud auth application-default login/, env);
  }, 60_000);

  it('run on the emulators when none can be had says what was tried and what to do (no stack trace, exit 2)', () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, RACEDAY_STATE_DIR: join(home, 'no-emulators') };
    expectMisuse(['run', '--backend', 'emulators', '--strategy', 'external', '--json'], /no emulators available \(tried external\): .*PUBSUB_EMULATOR_HOST.*raceday emulators start/, env);
  }, 60_000);

  it('generate to a reader that closes early (| head) ends quietly with exit 0', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'raceday.mjs'), 'generate', '--scenario', 'smoke', '--out', '-'], { cwd: root });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  }, 60_000);
});
