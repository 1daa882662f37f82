// Profiling a whole run: an opened backend (sim/open-backend.ts) with its ports wrapped by the
// profilers, the run's profile from its result, and the run record with its `profile` section.
import type { SpannerStore } from '../backends/google/spanner-store.ts';
import { writeOutputs, type WrittenOutputs } from '../reports/record/outputs.ts';
import type { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import type { OpenedBackend } from '../sim/open-backend.ts';
import type { RunDayResult } from '../sim/run-day.ts';
import type { RaceDay } from '../scenarios/model.ts';
import type { SampleInstrument, VariantSpec } from '../sim/variants.ts';
import { createProfileRecorder, profileBus, profileStore, runProfileOf, type ProfileKnobs, type ProfileRecorder, type RunProfile } from './profile.ts';
import { profileSection } from './profile-record.ts';

/**
 * The backend with its store and bus profiled into `recorder`. On the emulators each shard
 * database runs one transaction at a time and group-commits, so calls are filed as groups per
 * shard (profile.ts); elsewhere each call is its own sample.
 */
export function profileBackend(backend: OpenedBackend, recorder: ProfileRecorder): OpenedBackend {
  const spanner = backend.store as Partial<Pick<SpannerStore, 'shardOfUser'>>;
  const shardOf = spanner.shardOfUser;
  const unitOf = typeof shardOf === 'function' ? (userId: string): number => shardOf.call(backend.store, userId) : undefined;
  return {
    ...backend,
    store: profileStore(backend.store, recorder, { serialized: backend.name === 'emulators', ...(unitOf === undefined ? {} : { unitOf }) }),
    bus: profileBus(backend.bus, recorder),
  };
}

/** The concurrency knobs of a run on this backend (settlements per commit as the store chose it; 1 on memory). */
export function knobsOf(backend: OpenedBackend, o: { workers: number; maxInFlight: number; shards: number }): ProfileKnobs {
  const perCommit = backend.where['settlementsPerCommit'];
  return { workers: o.workers, maxInFlight: o.maxInFlight, shards: backend.name === 'memory' ? 1 : o.shards, settlementsPerCommit: typeof perCommit === 'number' ? perCommit : 1 };
}

/** The profile of a finished day run. */
export function profileOfDay(recorder: ProfileRecorder, backend: OpenedBackend, day: RaceDay, r: RunDayResult, knobs: ProfileKnobs, sample?: { variant: string; repeat: number }): RunProfile {
  return runProfileOf(recorder, {
    target: backend.name,
    knobs,
    users: day.users.length,
    tickets: day.ticketCount,
    settledUsers: r.realtime.settledUsers,
    makespanMs: r.realtime.makespanMs,
    ...(sample === undefined ? {} : sample),
  });
}

/** Stops the recorder, adds the profile section, writes metrics.json and every output into `dir`. */
export async function finishProfiledRecording(rec: RunRecorder, ok: boolean, dir: string, runs: readonly RunProfile[], log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<{ record: RunRecord; written: WrittenOutputs }> {
  const record: RunRecord = { ...rec.stop(ok), profile: JSON.parse(JSON.stringify(profileSection(runs))) as RunRecord['profile'] };
  const written = await writeOutputs(dir, { records: [record] }, undefined, record);
  log(`${record.command}: wrote ${written.files.join(', ')} to ${dir} in ${written.ms} ms (with the profile of ${runs.length} run${runs.length === 1 ? '' : 's'})`);
  return { record, written };
}

/**
 * Profilers for the samples of a --variant run: each recorded sample gets its own recorder, and
 * its profile is kept under its variant name and repeat, so one record holds a whole sweep.
 */
export function createSampleProfiler(): { instrument: (spec: VariantSpec, repeat: number) => SampleInstrument; runs(): RunProfile[] } {
  const runs: RunProfile[] = [];
  return {
    instrument(spec, repeat) {
      const recorder = createProfileRecorder();
      let done: ((r: RunDayResult) => void) | undefined;
      return {
        wrap(opened, day, knobs) {
          recorder.setWorkload({ users: day.users.length, tickets: day.ticketCount });
          const backend = profileBackend(opened, recorder);
          done = (r) => void runs.push(profileOfDay(recorder, opened, day, r, knobsOf(opened, knobs), { variant: spec.name, repeat }));
          return backend;
        },
        finished(r) {
          done?.(r);
        },
      };
    },
    runs: () => [...runs],
  };
}
