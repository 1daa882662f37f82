// dayTickets gathers a day's tickets without spreading a batch into arguments: a day of 60,000
// users puts more tickets in one batch than a call can take as arguments.
import { describe, expect, it } from 'vitest';
import type { Ticket } from '../core/ticket.ts';
import type { RaceDay } from '../scenarios/model.ts';
import { dayTickets } from './workload.ts';

describe('dayTickets', () => {
  it('returns every ticket of batches too big to spread into one call, in order', () => {
    const ticket = (i: number) => ({ ticketId: `t${i}` }) as unknown as Ticket;
    const big = Array.from({ length: 300_000 }, (_, i) => ticket(i));
    const day = { ticketBatches: () => [{ tickets: big }, { tickets: [ticket(300_000)] }] } as unknown as RaceDay;
    const all = dayTickets(day);
    expect(all).toHaveLength(300_001);
    expect(all[0]?.ticketId).toBe('t0');
    expect(all[300_000]?.ticketId).toBe('t300000');
  });
});
