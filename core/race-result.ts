// The official result of a race as data. Validation and winning combinations live in results.ts.

/**
 * `order` lists finishing groups; a group of several riders is a dead heat (同着):
 * [[3],[1,5],[2]] = 3 first, 1 and 5 tied second, 2 fourth. Riders who fell, were disqualified or
 * retired are simply absent. A void race (中止, 不成立) refunds every ticket.
 */
export type RaceResult =
  | { readonly status: 'official'; readonly order: readonly (readonly number[])[] }
  | { readonly status: 'void' };
