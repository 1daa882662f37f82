// The pipeline variants a command takes as flags (`--fanout`, `--notify`), parsed once for every
// command that starts the pipeline (`raceday run`, `raceday worker`), so both accept and refuse the
// same spellings with the same messages.
import { DEFAULT_VARIANTS, parseFanoutVariant, parseNotifyVariant, type PipelineVariants } from '../pipeline/settings.ts';
import { UsageError } from './args.ts';

export function pipelineVariantsOf(flags: Readonly<Record<string, unknown>>): PipelineVariants {
  let v = DEFAULT_VARIANTS;
  if (typeof flags['fanout'] === 'string') {
    const r = parseFanoutVariant(flags['fanout']);
    if (!r.ok) throw new UsageError(r.error.message);
    v = { ...v, fanout: r.value };
  }
  if (typeof flags['notify'] === 'string') {
    const r = parseNotifyVariant(flags['notify']);
    if (!r.ok) throw new UsageError(r.error.message);
    v = { ...v, notify: r.value };
  }
  return v;
}
