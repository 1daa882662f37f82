// Writing and reading run records (metrics.json). Written compact (one line): a long run's record
// is mostly encoded histograms and timeline points, and indentation would nearly double it.
// Read back through parseRunRecord, so a record is validated every time it is read.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Result } from '../../core/result.ts';
import { parseRunRecord, type RecordError, type RunRecord } from './schema.ts';

/** Writes the record atomically (a temporary file renamed), creating the folder. */
export async function writeRunRecord(path: string, record: RunRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record)}\n`);
  await rename(tmp, path);
}

/** Reads and validates a record; a missing or unreadable file is a RECORD.UNREADABLE error naming it. */
export async function readRunRecord(path: string): Promise<Result<RunRecord, RecordError>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return { ok: false, error: { code: 'RECORD.UNREADABLE', message: `${path}: cannot read the run record (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` } };
  }
  const r = parseRunRecord(text);
  return r.ok ? r : { ok: false, error: { ...r.error, message: `${path}: ${r.error.message}` } };
}
