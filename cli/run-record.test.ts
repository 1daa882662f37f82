// The `--out` glue: a bench's --out option taken out of its arguments (refused when malformed), and
// the progress of a run of samples: one line per sample with the ETA in a log, a bar on a terminal.
import { describe, expect, it } from 'vitest';
import { sampleProgress, takeOutOption } from './run-record.ts';

const sample = (variant: string, repeat: number) => ({ variant, repeat, ok: true, figures: { makespanMs: 12.5 } });

describe('run-record glue', () => {
  it('takes --out DIR or --out=DIR out of a bench target\'s arguments', () => {
    expect(takeOutOption(['--users', '5', '--out', 'd', '--json'])).toEqual({ argv: ['--users', '5', '--json'], out: 'd' });
    expect(takeOutOption(['--out=d'])).toEqual({ argv: [], out: 'd' });
    expect(takeOutOption(['--json'])).toEqual({ argv: ['--json'] });
    expect(takeOutOption(['--out']).error).toMatch(/needs a folder/);
    expect(takeOutOption(['--out', '--json']).error).toMatch(/needs a folder/);
    expect(takeOutOption(['--out', 'a', '--out', 'b']).error).toMatch(/more than once/);
  });

  it('logs one line per sample with the ETA off a terminal', () => {
    const written: string[] = [];
    const onSample = sampleProgress('variants', 'lines', (t) => void written.push(t));
    onSample(sample('A', 0), 1, 4);
    onSample(sample('B', 0), 2, 4);
    onSample({ ...sample('B', 1), ok: false }, 4, 4);
    expect(written[0]).toMatch(/^ {2}sample 1\/4: A #0 makespan 12\.5 ms \(ETA \d+ s\)\n$/);
    expect(written[2]).toBe('  sample 4/4: B #1 makespan 12.5 ms (an invariant FAILED)\n');
  });

  it('is silent when off', () => {
    const written: string[] = [];
    sampleProgress('variants', 'off', (t) => void written.push(t))(sample('A', 0), 1, 1);
    expect(written).toEqual([]);
  });
});
