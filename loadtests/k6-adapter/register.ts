// TEST ADAPTER, not k6: `node --import ./loadtests/k6-adapter/register.ts ...` resolves k6 modules
// to this folder's stand-ins.
import { register } from 'node:module';

register(new URL('./hooks.ts', import.meta.url));
