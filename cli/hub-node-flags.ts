/**
 * V8 flags for the hub on a small machine (config/phones-away-hub.service passes them to node). A young generation of
 * 2 MB semi-spaces and a heap that grows by 20 % instead of up to 2–4× keep a 3,000-device hub near its live set
 * (about 100 MB) instead of 300+ MB, for more frequent garbage collection: measured in bench/RESULTS.md (fleet).
 * Leave them out where memory is plentiful and message throughput matters more.
 */
export const HUB_NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=20'] as const;
