import { describe, expect, it } from 'vitest';
import { influxql, msTime, quoteIdent, quoteString } from '../../../../hub/store/influxql.js';

describe('quoteIdent', () => {
  it('double-quotes plain names', () => {
    expect(quoteIdent('cpu')).toBe('"cpu"');
    expect(quoteIdent('')).toBe('""');
  });

  it('escapes double quotes, backslashes and newlines (the only escapes InfluxQL knows)', () => {
    expect(quoteIdent('a"b')).toBe('"a\\"b"');
    expect(quoteIdent('a\\b')).toBe('"a\\\\b"');
    expect(quoteIdent('a\nb')).toBe('"a\\nb"');
    expect(quoteIdent('\\"')).toBe('"\\\\\\""');
  });

  it('leaves single quotes, spaces, dots and unicode alone', () => {
    expect(quoteIdent("it's a.b c ✓")).toBe('"it\'s a.b c ✓"');
  });

  it('joins several parts with dots (db.rp.measurement)', () => {
    expect(quoteIdent('db', 'autogen', 'm"x')).toBe('"db"."autogen"."m\\"x"');
  });

  it('cannot be broken out of', () => {
    const evil = 'x" ; DROP DATABASE "pa';
    expect(quoteIdent(evil)).toBe('"x\\" ; DROP DATABASE \\"pa"');
  });

  it('needs at least one part', () => {
    expect(() => quoteIdent()).toThrow(TypeError);
  });
});

describe('quoteString', () => {
  it('single-quotes and escapes quotes, backslashes and newlines', () => {
    expect(quoteString('room 4')).toBe("'room 4'");
    expect(quoteString("o'clock")).toBe("'o\\'clock'");
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
    expect(quoteString('a\nb')).toBe("'a\\nb'");
    expect(quoteString('say "hi"')).toBe('\'say "hi"\'');
  });

  it('cannot be broken out of', () => {
    expect(quoteString("x' OR 1=1; DROP DATABASE pa; '")).toBe("'x\\' OR 1=1; DROP DATABASE pa; \\''");
  });
});

describe('msTime', () => {
  it('formats integer epoch ms', () => {
    expect(msTime(1_700_000_000_123)).toBe('1700000000123ms');
    expect(msTime(0)).toBe('0ms');
  });

  it('refuses anything that is not a safe integer', () => {
    for (const bad of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 60])
      expect(() => msTime(bad)).toThrow(TypeError);
  });
});

it('exposes the helpers as one namespace', () => {
  expect(influxql.quoteIdent('m')).toBe('"m"');
  expect(influxql.quoteString('v')).toBe("'v'");
});
