// `raceday redis start|status|stop`: a background redis-server for the gateway's Redis intake
// (`--intake redis`), recorded under RACEDAY_STATE_DIR/redis (else .raceday/redis) so gateway
// processes, tests and runs reuse it. Without one running, whatever needs Redis starts its own
// and stops it when done (emulators/redis.ts ensureRedis).
import { findRedisServer, redisDir, runningRedis, startBackgroundRedis, stopBackgroundRedis } from '../../emulators/redis.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday redis <start|status|stop> [--json]

  start    start a redis-server in the background on a free port on 127.0.0.1, without
           persistence (no snapshots, no append-only file), ready once it answers PING; or
           report the one already running. Recorded in .raceday/redis/state.json
           (RACEDAY_STATE_DIR overrides .raceday), with its log beside it
  status   say whether the recorded redis-server runs and answers PING (exit 1 if not)
  stop     stop the redis-server that start recorded (only a process it started)

The binary is REDIS_SERVER, else redis-server on PATH (Debian package redis-server; CI installs it
with .ci/install-tools).

options:
  --json   start and status print one JSON object (url, port, running)`;

const spec = { json: { type: 'boolean' } } as const;
const say = (line: string) => process.stderr.write(`${line}\n`);

async function start(json: boolean): Promise<number> {
  const r = await startBackgroundRedis();
  if (json) process.stdout.write(`${JSON.stringify({ running: true, url: r.url, port: r.port, reused: r.reused, stateDir: redisDir() })}\n`);
  else say(r.reused ? `redis: already running at ${r.url} (raceday redis stop to stop it)` : `redis: started ${findRedisServer()} at ${r.url}; state and log in ${redisDir()}`);
  return 0;
}

async function status(json: boolean): Promise<number> {
  const running = await runningRedis();
  const url = running === undefined ? null : `redis://127.0.0.1:${running.port}`;
  if (json) process.stdout.write(`${JSON.stringify({ running: running !== undefined, url, port: running?.port ?? null, stateDir: redisDir() })}\n`);
  else process.stdout.write(running === undefined ? 'redis: not running (raceday redis start)\n' : `redis: running at ${url} (pid ${running.process.pid}, since ${running.startedAt}, log ${running.process.logFile})\n`);
  return running === undefined ? 1 : 0;
}

export const command: CommandModule = {
  summary: 'start, inspect or stop the background redis-server of the gateway\'s Redis intake',
  usage,
  run(argv) {
    return withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, spec, { positionals: 1 });
      const [action, ...extra] = positionals;
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const json = flags.json === true;
      switch (action) {
        case 'start':
          return start(json);
        case 'status':
          return status(json);
        case 'stop': {
          if (json) throw new UsageError('--json applies to "redis start" and "redis status" only');
          const stopped = await stopBackgroundRedis();
          say(stopped ? 'redis: stopped' : 'redis: nothing of ours was running');
          return 0;
        }
        case undefined:
          throw new UsageError('say what to do: start, status or stop');
        default:
          throw new UsageError(`unknown action "${action}" (start, status or stop)`);
      }
    });
  },
};
