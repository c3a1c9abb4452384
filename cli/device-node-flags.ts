/**
 * V8 flags for the device program on a Pi (config/phones-away-device.service passes them to node). The program is
 * mostly idle (a Firmata report every 10 ms, a heartbeat every few seconds), so memory matters more than peak speed:
 * 1 MB semi-spaces, a heap that grows by 20 %, one V8 worker thread, and lite mode (no optimising compiler, feedback
 * allocated lazily). Measured against the default flags in bench/RESULTS.md (device program).
 */
export const DEVICE_NODE_FLAGS = [
  '--max-semi-space-size=1',
  '--heap-growing-percent=20',
  '--v8-pool-size=1',
  '--lite-mode',
] as const;
