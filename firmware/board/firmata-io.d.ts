/** Minimal types for firmata-io 2.3 (it ships none): the surface openBoard and the tests use. */
declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';

  namespace bindTransport {
    /** Anything serialport-like: firmata-io writes buffers and listens for open, data, close and error. */
    interface FirmataTransport {
      write(data: Buffer, callback?: (error?: Error | null) => void): unknown;
      on(event: string, listener: (...args: never[]) => void): unknown;
    }

    interface FirmataOptions {
      /** ms to wait for the version the firmware reports at boot before asking for it. Default 5000. */
      reportVersionTimeout?: number;
      samplingInterval?: number;
      skipCapabilities?: boolean;
    }

    interface FirmataPin {
      supportedModes: number[];
      analogChannel: number;
      mode?: number;
      value?: number;
      report?: number;
    }

    class Firmata extends EventEmitter {
      constructor(transport: FirmataTransport, options?: FirmataOptions, callback?: (error?: Error) => void);
      readonly isReady: boolean;
      readonly pins: FirmataPin[];
      readonly analogPins: number[];
      readonly MODES: Readonly<Record<'INPUT' | 'OUTPUT' | 'ANALOG' | 'PWM' | 'SERVO' | 'PULLUP', number>>;
      readonly HIGH: 1;
      readonly LOW: 0;
      readonly firmware: { name?: string; version?: { major: number; minor: number } };
      readonly transport: FirmataTransport;
      pinMode(pin: number, mode: number): void;
      digitalWrite(pin: number, value: number): void;
      digitalRead(pin: number, callback: (value: number) => void): void;
      analogWrite(pin: number, value: number): void;
      /** `pin` is the analog channel (0 = A0). */
      analogRead(pin: number, callback: (value: number) => void): void;
      reportDigitalPin(pin: number, value: 0 | 1): void;
      /** `channel` is the analog channel (0 = A0). */
      reportAnalogPin(channel: number, value: 0 | 1): void;
      /** How often (ms, 10..65535) the firmware sends analog reports; firmata-io clamps below 10. */
      setSamplingInterval(ms: number): void;
      reset(): void;
    }
  }

  /** The module is a function binding a default transport class; we always pass a transport object instead. */
  function bindTransport(transport: unknown): typeof bindTransport.Firmata;
  export = bindTransport;
}
