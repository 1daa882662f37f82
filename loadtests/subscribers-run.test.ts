// Proves the swarm leaves worker threads for child processes when both ends of every connection
// would not fit under this process's open-file limit (the kernel would refuse accepts).
import { describe, expect, it } from 'vitest';
import { isolationFor, openFilesLimit } from './subscribers-run.ts';

describe('swarm isolation and the open-file limit', () => {
  it('reads the limit here and switches to processes only past it', () => {
    const limit = openFilesLimit();
    if (process.platform === 'linux') expect(limit === undefined || limit > 0).toBe(true);
    const lines: string[] = [];
    expect(isolationFor('thread', 100, (l) => lines.push(l))).toBe('thread');
    expect(isolationFor('process', 100, (l) => lines.push(l))).toBe('process');
    if (limit !== undefined) {
      expect(isolationFor('thread', limit, (l) => lines.push(l))).toBe('process');
      expect(lines[0]).toMatch(/open-file limit/);
    }
  });
});
