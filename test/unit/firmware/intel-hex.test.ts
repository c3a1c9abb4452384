import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIntelHex, unoFirmataHexPath } from '../../../firmware/board/emulated-uno.js';

describe('parseIntelHex', () => {
  it('places data records at their addresses', () => {
    const image = parseIntelHex(':0300300002337A1E\n:00000001FF\n', 0x40);
    expect([...image.subarray(0x30, 0x33)]).toEqual([0x02, 0x33, 0x7a]);
    expect(image[0x2f]).toBe(0);
  });

  it('honours extended linear addresses', () => {
    const image = parseIntelHex(':020000040000FA\n:01001000559A\n', 0x20);
    expect(image[0x10]).toBe(0x55);
  });

  it('rejects a bad checksum and data beyond the flash', () => {
    expect(() => parseIntelHex(':0300300002337A1F\n')).toThrow(/checksum/);
    expect(() => parseIntelHex(':01004000556A\n', 0x40)).toThrow(/beyond/);
  });

  it('reads the Uno Firmata image from node-pixel: it starts with the reset vector jump', () => {
    const image = parseIntelHex(readFileSync(unoFirmataHexPath(), 'ascii'));
    expect([image[0], image[1]]).toEqual([0x0c, 0x94]); // jmp
  });
});
