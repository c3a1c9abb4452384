import { describe, expect, it } from 'vitest';
import { type PagedIterator, pages } from '../../../../hub/db/pages.js';

/** An iterator over 0..n-1 that records its nextv sizes and whether it was closed. */
function counting(n: number): PagedIterator<number> & { sizes: number[]; closed: boolean } {
  let at = 0;
  const it = {
    sizes: [] as number[],
    closed: false,
    async nextv(size: number) {
      it.sizes.push(size);
      const page = Array.from({ length: Math.min(size, n - at) }, (_, i) => at + i);
      at += page.length;
      return page;
    },
    async close() {
      it.closed = true;
    },
  };
  return it;
}

describe('pages: a scan a page per native call', () => {
  it('reads every entry in order, a page at a time, and closes the iterator at the end', async () => {
    const it = counting(2_500);
    const seen: number[] = [];
    for await (const page of pages(it)) seen.push(...page);
    expect(seen).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    expect(it.sizes).toEqual([1000, 1000, 1000, 1000]); // the last read finds the end
    expect(it.closed).toBe(true);
  });

  it('closes the iterator when its reader stops early', async () => {
    const it = counting(2_500);
    for await (const page of pages(it, 100)) if (page[0] === 300) break;
    expect(it.sizes).toEqual([100, 100, 100, 100]);
    expect(it.closed).toBe(true);
  });
});
