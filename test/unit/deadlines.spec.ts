import { describe, expect, it } from 'vitest';
import { Deadlines, type Expiring } from '../../libs/webhooks/src/send/transport/deadlines.js';

function entry(name: string, expired: string[]): Expiring {
  return { deadline: 0, expire: () => expired.push(name) };
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('Deadlines (one timer per timeout value)', () => {
  it('expires entries of different timeouts each at its own deadline, in order, and never an untracked one', async () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    const slow = entry('slow', expired);
    const fast = entry('fast', expired);
    const finished = entry('finished', expired);
    const later = entry('later', expired);
    deadlines.track(slow, 500);
    deadlines.track(finished, 20);
    deadlines.track(fast, 20);
    deadlines.untrack(finished, 20);
    await until(() => expired.length === 1);
    // Tracked after the first expiry: the group's timer is re-armed for it.
    deadlines.track(later, 20);
    await until(() => expired.length === 3);
    expect(expired).toEqual(['fast', 'later', 'slow']);
    expect(slow.deadline).toBeGreaterThan(fast.deadline);
  });
});
