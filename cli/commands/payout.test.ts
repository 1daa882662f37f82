// Proves `raceday payout` honours the payout contract of docs/rules.md end to end by spawning the real command
// (`node bin/raceday.mjs payout`) with stdin or --file and comparing its stdout, stderr and exit
// code with the documented example, the streaming rule for invalid lines and usage errors.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'raceday-payout-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function raceday(args: string[], input = '') {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'raceday.mjs'), ...args], { cwd: root, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const contractIn =
  '{"sport":"keirin","riders":9,"scratched":[7],"result":{"status":"official","order":[[3],[1,5],[2]]},' +
  '"pools":{"trifecta":{"3-1-5":12000,"3-5-1":8000,"1-3-5":50000,"7-3-1":3000,"2-4-6":27000},"wide":{"2=4":5000,"4=6":1500}},' +
  '"returnRate":{"trifecta":"0.75"}}';
const contractOut = '{"trifecta":{"kind":"paid","winners":{"3-1-5":310,"3-5-1":430}},"wide":{"kind":"special","per100":70}}';
const voidIn = '{"sport":"pist6","riders":6,"result":{"status":"void"},"pools":{"win":{"1":100},"trio":{}}}';
const voidOut = '{"trio":{"kind":"refunded"},"win":{"kind":"refunded"}}';

describe('raceday payout', () => {
  it('prints the documented output for the contract example on stdin, skipping blank lines', () => {
    const r = raceday(['payout'], `${contractIn}\n\n  \r\n${voidIn}\r\n`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${contractOut}\n${voidOut}\n`);
  });

  it('reads --file, streams many races, one output line per race', () => {
    const file = join(tmp, 'many.jsonl');
    const count = 3000;
    const lines = Array.from({ length: count }, (_, i) => (i % 2 === 0 ? contractIn : voidIn));
    writeFileSync(file, lines.join('\n'));
    const r = raceday(['payout', '--file', file]);
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    expect(out.length).toBe(count + 1);
    expect(out[count - 2]).toBe(contractOut);
    expect(out[count - 1]).toBe(voidOut);
  });

  it('on an invalid line exits 2, names the line, path and reason, after printing the races before it', () => {
    const bad = contractIn.replace('"2-4-6"', '"3-1-9"').replace('"riders":9', '"riders":8').replace('"scratched":[7]', '"scratched":[]');
    const r = raceday(['payout'], `${voidIn}\n\n${bad}\n${voidIn}\n`);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe(`${voidOut}\n`);
    expect(r.stderr).toContain('line 3: pools.trifecta."3-1-9": ');
    expect(r.stderr).toContain('rider 9 is out of range 1..8');
    expect(r.stderr).toContain('[BET.COMBINATION_INVALID]');
  });

  it('reports a line that is not JSON, and a missing file, with exit 2', () => {
    const notJson = raceday(['payout'], `${voidIn}\n{"sport":\n`);
    expect(notJson.status).toBe(2);
    expect(notJson.stderr).toMatch(/line 2: not valid JSON: .*\[INPUT\.INVALID\]/);
    const missing = raceday(['payout', '--file', join(tmp, 'absent.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read input');
  });

  it('rejects unknown options and stray arguments in one line pointing at the help', () => {
    const r = raceday(['payout', '--fast']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --fast');
    expect(r.stderr).toBe('raceday payout: unknown option --fast (raceday help payout lists the options)\n');
    expect(raceday(['payout', 'races.jsonl']).status).toBe(2);
  });
});

describe('raceday payout line bound', () => {
  it('refuses a 100 MB line without a newline while reading it, not after buffering it all', async () => {
    const total = 100 * 1024 * 1024;
    const piece = 'x'.repeat(64 * 1024);
    let produced = 0;
    // Generated lazily: the stream only makes what the child reads (plus a small buffer).
    const source = Readable.from(
      (function* () {
        for (; produced < total; produced += piece.length) yield piece;
      })(),
      { objectMode: false },
    );
    const child = spawn(process.execPath, [join(root, 'bin', 'raceday.mjs'), 'payout'], { cwd: root });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // EPIPE once the child has refused the line
    source.pipe(child.stdin);
    const status = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    source.destroy();
    expect(status).toBe(2);
    expect(stderr).toBe('raceday payout: line 1: longer than 4194304 characters [INPUT.INVALID]\n');
    // The child stopped reading soon after the bound (4 MiB): most of the 100 MB was never made.
    expect(produced).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});
