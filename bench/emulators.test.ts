// Proves the bench's headline pick (medianPair): the pair whose ratio is the median, the lower
// middle one for an even count, whatever the order the pairs ran in; no pairs is a bug, not a 0.
// And the raw capacity a pipeline run is compared with: the mean of the raw loops around it.
import { expect, it } from 'vitest';
import { bracketedRaw, medianPair } from './emulators.ts';

it('compares a pipeline run with the mean of the raw loops just before and after it', () => {
  expect(bracketedRaw(497, 517)).toBe(507);
  expect(bracketedRaw(602, 408)).toBe(505);
  expect(bracketedRaw(500.1, 500.2)).toBe(500.2); // rounded to 0.1 users/s
});

it('picks the pair with the median ratio', () => {
  const pairs = [{ ratio: 0.9, n: 1 }, { ratio: 0.62, n: 2 }, { ratio: 0.75, n: 3 }];
  expect(medianPair(pairs).n).toBe(3);
  expect(medianPair([{ ratio: 0.8, n: 1 }, { ratio: 0.6, n: 2 }]).n).toBe(2);
  expect(medianPair([{ ratio: 0.7, n: 1 }]).n).toBe(1);
  expect(() => medianPair([])).toThrow('no bench pairs');
});
