// TEST ADAPTER, not k6: Node module-resolution hooks that send a k6 script's `k6` and `k6/*`
// imports to the stand-ins in this folder (see README.md). Registered by register.ts.
const MODULES: Readonly<Record<string, string>> = {
  k6: 'k6.ts',
  'k6/http': 'http.ts',
  'k6/metrics': 'metrics.ts',
  'k6/websockets': 'websockets.ts',
  'k6/timers': 'timers.ts',
};

interface ResolveContext {
  readonly parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  const file = MODULES[specifier];
  if (file !== undefined) return { url: new URL(file, import.meta.url).href, shortCircuit: true };
  if (specifier.startsWith('k6/')) throw new Error(`K6_ADAPTER.UNSUPPORTED: the test adapter has no stand-in for "${specifier}" (see loadtests/k6-adapter/README.md)`);
  return nextResolve(specifier, context);
}
