import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Plain Vite with esbuild's JSX for Preact: no framework plugin needed, small bundle for a Pi to serve.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
