// Reading the scripts' settings from k6's environment (`k6 run -e NAME=value`): every script
// names what it needs and fails at once, with the variable's name, when one is missing.

export function env(name: string, fallback?: string): string {
  const v = __ENV[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`set ${name} (k6 run -e ${name}=...)`);
}

export function intEnv(name: string, fallback: number): number {
  const v = Number(env(name, String(fallback)));
  if (!Number.isInteger(v)) throw new Error(`${name} must be an integer, got ${__ENV[name]}`);
  return v;
}

/** Bearer tokens, comma-separated (TOKENS); VU n uses the n-th, round robin. */
export function tokenForVu(): string {
  const tokens = env('TOKENS').split(',');
  return tokens[(__VU - 1) % tokens.length] as string;
}
