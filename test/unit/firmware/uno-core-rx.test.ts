/**
 * The emulated Uno keeps every byte the host sends (firmware/board/uno-core.ts, UnoCore.receive): a byte goes into
 * the USART once the firmware has read the last one from UDR. avr8js holds one received byte and overwrites it with
 * the next if it is still unread, so a firmware busy elsewhere (Firmata starting up) lost host bytes when they were
 * fed at line rate: a lost SET_PIN_MODE byte left a sign dark for the whole session (the one-off "output never read
 * back" CI failures).
 *
 * The chip here runs a small program assembled for the test: it polls the receiver only every ~12 ms of emulated
 * time (a busy loop between polls, far slower than a byte at the line rate) and echoes each byte it reads. Every byte
 * of a burst must come back, in order.
 */
import { assemble } from 'avr8js/dist/esm/utils/assembler.js';
import { describe, expect, it } from 'vitest';
import { CYCLES_PER_MS, UnoCore } from '../../../firmware/board/uno-core.js';

/** USART0 registers in data space (ATmega328P datasheet): status A, control B, data. */
const SLOW_ECHO = `
  _REPLACE UCSR0A, 0xc0
  _REPLACE UCSR0B, 0xc1
  _REPLACE UDR0, 0xc6
  ldi r16, 0x18        ; RXEN0 | TXEN0, no receive interrupt: the program polls
  sts UCSR0B, r16
loop:
  ldi r17, 0xff        ; about 255 * 255 * 3 cycles (12 ms) busy elsewhere
outer:
  ldi r18, 0xff
inner:
  dec r18
  brne inner
  dec r17
  brne outer
  lds r19, UCSR0A
  sbrs r19, 7          ; RXC0: a byte waits in UDR
  rjmp loop
  lds r20, UDR0
wait_tx:
  lds r19, UCSR0A
  sbrs r19, 5          ; UDRE0: the transmitter can take a byte
  rjmp wait_tx
  sts UDR0, r20
  rjmp loop
`;

/**
 * The same echo, but between polls it writes UCSR0B again with the receiver still on, as Arduino's HardwareSerial
 * does each time it sends (it sets and clears UDRIE0 there). avr8js clears RXC0 on such a write, though on the chip
 * only reading UDR clears it: a byte that arrived just before was never seen, and with bytes fed one at a time as the
 * firmware reads them, nothing came after it. Every output of an emulated board then stayed put (two clean-clone CI
 * runs on 2026-12-07: the HIL test's lock and signage, the simulator's lights).
 */
const ECHO_REWRITING_UCSRB = SLOW_ECHO.replace(
  'outer:\n  ldi r18, 0xff',
  'outer:\n  sts UCSR0B, r16\n  ldi r18, 0xff',
);

function slowEchoImage(source = SLOW_ECHO): Uint8Array {
  const { bytes, errors } = assemble(source);
  if (errors.length > 0) throw new Error(`assembler: ${errors.join('; ')}`);
  const image = new Uint8Array(0x8000);
  image.set(bytes);
  return image;
}

/** Runs the chip until `count` bytes have come back or `limitMs` of emulated time has passed. */
function runUntilEchoed(core: UnoCore, echoed: number[], count: number, limitMs: number): void {
  const end = core.cycles + limitMs * CYCLES_PER_MS;
  while (echoed.length < count && core.cycles < end) core.run(CYCLES_PER_MS);
}

describe('UnoCore receive (host → firmware bytes)', () => {
  it('keeps every byte of a burst the firmware reads far slower than the line rate', () => {
    const echoed: number[] = [];
    const core = new UnoCore(slowEchoImage(), [], (bytes) => echoed.push(...bytes));
    core.run(CYCLES_PER_MS); // the program enables the receiver
    // A set-up burst as johnny-five sends it: SET_PIN_MODE for the three signage pins, then their digital writes.
    const burst = [0xf4, 0x05, 0x01, 0xf4, 0x06, 0x01, 0xf4, 0x07, 0x01, 0x90, 0x60, 0x00, 0xe9, 0x7f, 0x01];
    core.receive(Uint8Array.from(burst));
    runUntilEchoed(core, echoed, burst.length, 40 * burst.length);
    expect(echoed).toEqual(burst);
  });

  it('keeps receiving when the firmware writes UCSR0B with a byte waiting (as HardwareSerial does to send)', () => {
    expect(ECHO_REWRITING_UCSRB).not.toBe(SLOW_ECHO);
    const echoed: number[] = [];
    const core = new UnoCore(slowEchoImage(ECHO_REWRITING_UCSRB), [], (bytes) => echoed.push(...bytes));
    core.run(CYCLES_PER_MS);
    const burst = [0xf4, 0x07, 0x01, 0x90, 0x14, 0x01, 0xe9, 0x7f, 0x01, 0xe6, 0x7f, 0x01];
    core.receive(Uint8Array.from(burst));
    runUntilEchoed(core, echoed, burst.length, 40 * burst.length);
    expect(echoed).toEqual(burst);
  });

  it('keeps bytes sent in several writes while earlier ones are still unread', () => {
    const echoed: number[] = [];
    const core = new UnoCore(slowEchoImage(), [], (bytes) => echoed.push(...bytes));
    core.run(CYCLES_PER_MS);
    const sent: number[] = [];
    for (let write = 0; write < 4; write++) {
      const chunk = [write, 0x40 + write, 0x80 + write];
      sent.push(...chunk);
      core.receive(Uint8Array.from(chunk));
      core.run(CYCLES_PER_MS / 10); // less than the firmware's time between reads
    }
    runUntilEchoed(core, echoed, sent.length, 40 * sent.length);
    expect(echoed).toEqual(sent);
  });
});
