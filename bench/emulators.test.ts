// Proves the bench's headline pick (medianPair): the pair whose ratio is the median, the lower
// middle one for an even count, whatever the order the pairs ran in; no pairs is a bug, not a 0.
import { expect, it } from 'vitest';
import { medianPair } from './emulators.ts';

it('picks the pair with the median ratio', () => {
  const pairs = [{ ratio: 0.9, n: 1 }, { ratio: 0.62, n: 2 }, { ratio: 0.75, n: 3 }];
  expect(medianPair(pairs).n).toBe(3);
  expect(medianPair([{ ratio: 0.8, n: 1 }, { ratio: 0.6, n: 2 }]).n).toBe(2);
  expect(medianPair([{ ratio: 0.7, n: 1 }]).n).toBe(1);
  expect(() => medianPair([])).toThrow('no bench pairs');
});
