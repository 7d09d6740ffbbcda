import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../apps/example/src/cli/progress-reporter.js';

/** A terminal or a log, as the reporter sees it, and a clock the test moves. */
function setup(isTTY: boolean, env: NodeJS.ProcessEnv = {}) {
  const written: string[] = [];
  let now = 1_000_000;
  const reporter = new ProgressReporter('Items', { isTTY, write: (text: string) => written.push(text) }, () => now, env);
  return { written, reporter, advance: (ms: number) => (now += ms) };
}

describe('progress of long operations', () => {
  it('on a terminal, redraws one line with count, rate and time left, at most ten times a second', () => {
    const { written, reporter, advance } = setup(true);
    advance(2_000);
    reporter.update(200, 1_000);
    reporter.update(210, 1_000); // same instant: not redrawn
    advance(100);
    reporter.update(300, 1_000);
    advance(1_900);
    reporter.finish(1_000, 1_000);
    expect(written).toEqual([
      '\r\u001b[2KItems: 200/1,000 (20 %), 100/s, about 8 s left',
      '\r\u001b[2KItems: 300/1,000 (30 %), 143/s, about 5 s left',
      '\r\u001b[2KItems: 1,000/1,000 (100 %) in 4 s\n',
    ]);
  });

  it('in CI or a pipe, writes plain lines: at each tenth of the way or every 5 s, and the final figures once', () => {
    for (const { written, reporter, advance } of [setup(false), setup(true, { CI: 'true' })]) {
      advance(1_000);
      reporter.update(1, 100_000); // first line
      advance(1_000);
      reporter.update(5_000, 100_000); // same tenth, 1 s later: nothing
      reporter.update(10_000, 100_000); // next tenth
      advance(5_000);
      reporter.update(12_000, 100_000); // 5 s later
      reporter.update(100_000, 100_000); // the end is finish's to write
      reporter.finish(100_000, 100_000);
      expect(written).toEqual([
        'Items: 1/100,000 (0 %), 1/s, about 27 h 47 min left\n',
        'Items: 10,000/100,000 (10 %), 5,000/s, about 18 s left\n',
        'Items: 12,000/100,000 (12 %), 1,714/s, about 52 s left\n',
        'Items: 100,000/100,000 (100 %) in 7 s\n',
      ]);
    }
  });

  it('says when the rate is not known yet, and counts an empty operation as done', () => {
    const { reporter } = setup(false);
    expect(reporter.describe(0, 10)).toBe('Items: 0/10 (0 %), 0/s, time left unknown');
    expect(reporter.describe(0, 0)).toBe('Items: 0/0 (100 %) in 1 s');
  });

  it('rounds before splitting minutes and hours: never "1 min 60 s" or "1 h 60 min"', () => {
    const { reporter } = setup(false);
    // 10 s in, 100 done: 10/s.
    const at = 1_000_000 + 10_000;
    expect(reporter.describe(100, 100 + 1_196, at)).toBe('Items: 100/1,296 (7 %), 10/s, about 2 min 0 s left'); // 119.6 s
    expect(reporter.describe(100, 100 + 35_995, at)).toBe('Items: 100/36,095 (0 %), 10/s, about 1 h 0 min left'); // 3599.5 s
    expect(reporter.describe(100, 100 + 71_700, at)).toBe('Items: 100/71,800 (0 %), 10/s, about 2 h 0 min left'); // 7170 s
    expect(reporter.describe(100, 100 + 595, at)).toBe('Items: 100/695 (14 %), 10/s, about 1 min 0 s left'); // 59.5 s
  });

  it('CI=false, CI=0 or an empty CI is not CI: a terminal keeps its redrawn line', () => {
    for (const CI of ['false', '0', '']) {
      const { written, reporter } = setup(true, { CI });
      reporter.update(1, 10);
      expect(written).toEqual(['\r\u001b[2KItems: 1/10 (10 %), 1,000/s, about 1 s left']);
    }
    for (const CI of ['true', '1', 'woodpecker']) {
      const { written, reporter } = setup(true, { CI });
      reporter.update(1, 10);
      expect(written).toEqual(['Items: 1/10 (10 %), 1,000/s, about 1 s left\n']);
    }
  });

  it('abort() ends an open terminal line, and only then', () => {
    const { written, reporter } = setup(true);
    reporter.abort();
    expect(written).toEqual([]);
    reporter.update(1, 10);
    reporter.abort();
    reporter.abort();
    expect(written).toEqual(['\r\u001b[2KItems: 1/10 (10 %), 1,000/s, about 1 s left', '\n']);
    const plain = setup(false);
    plain.reporter.update(1, 10);
    plain.reporter.abort();
    expect(plain.written).toEqual(['Items: 1/10 (10 %), 1,000/s, about 1 s left\n']);
  });

  it('track() reports what the operation hears and ends with its last figures; a failure ends the line and is rethrown', async () => {
    const { written, reporter, advance } = setup(true);
    const result = await reporter.track(async (onProgress) => {
      advance(1_000);
      onProgress({ done: 4, total: 8 });
      advance(1_000);
      onProgress({ done: 8, total: 8 });
      return 'done';
    });
    expect(result).toBe('done');
    expect(written).toEqual(['\r\u001b[2KItems: 4/8 (50 %), 4/s, about 1 s left', '\r\u001b[2KItems: 8/8 (100 %) in 2 s\n']);

    const failing = setup(true);
    const failure = failing.reporter.track(async (onProgress) => {
      failing.advance(1_000);
      onProgress({ done: 1, total: 8 });
      throw new Error('store gone');
    });
    await expect(failure).rejects.toThrow('store gone');
    expect(failing.written).toEqual(['\r\u001b[2KItems: 1/8 (12 %), 1/s, about 7 s left', '\n']);
  });
});
