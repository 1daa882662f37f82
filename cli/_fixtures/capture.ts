// Test support: runs a command's `run` in this process with stdout and stderr captured, so a
// test reads the exit code and what the command printed without spawning the CLI.
import { vi } from 'vitest';

export interface Captured {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function capture(body: () => Promise<number>): Promise<Captured> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    return { code: await body(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
