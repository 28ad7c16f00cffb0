// @ts-check
import { defineConfig } from 'tsup';

/**
 * The build every publishable package uses: ESM and CommonJS, type declarations for both, source
 * maps, Node 20 syntax. `entry` defaults to the package's one entry point.
 * @param {{ entry?: string[] | Record<string, string> }} [options]
 */
export function feedBuild(options = {}) {
  return defineConfig({
    entry: options.entry ?? ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // Maps give stack traces the source's file and line; the sources themselves are not shipped
    // (they were about 60 % of each package's unpacked size).
    esbuildOptions(o) {
      o.sourcesContent = false;
    },
  });
}
