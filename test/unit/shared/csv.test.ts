import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../../../shared/csv.js';

describe('CSV (every export)', () => {
  it('quotes per RFC 4180 only where needed', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r')).toBe('"cr\r"');
  });

  it('S1: text a spreadsheet would run as a formula opens as text', () => {
    for (const attack of ['=HYPERLINK("http://x")', '+1', '-1+1', '@SUM(A1)', '\tx', '\rx']) {
      const cell = csvCell(attack);
      expect(cell.replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvCell('=1,2')).toBe(`"'=1,2"`);
  });

  it('numbers stay numbers (a negative figure is not a formula); null and undefined are empty', () => {
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(0.5)).toBe('0.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(false)).toBe('false');
  });

  it('rows end with CRLF', () => {
    expect(
      toCsv([
        ['a', 'b'],
        [1, '=x'],
      ]),
    ).toBe("a,b\r\n1,'=x\r\n");
    expect(toCsv([])).toBe('');
  });
});
