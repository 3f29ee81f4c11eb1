/**
 * How synthfleet's Node processes ship: one minified CommonJS file with every dependency inside
 * (native addons aside). Plain JavaScript starts without Node's type stripping (its WebAssembly
 * compiler and the strings it makes cost ~18 MB of RSS in the agent and far more in the API) and
 * without resolving hundreds of files. CommonJS, not an ES module: Node builds an ES module's view
 * of a builtin such as `node:http` by reading all its exports, which evaluates lazy getters that
 * load undici, http2 and tls, about 13 MB of RSS (a `require` reads nothing it is not asked for).
 * `scripts/build-agent.ts` and `scripts/build-api.ts` use it.
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * zod's `z` namespace re-exports every locale's messages (about 300 KB of the 440 KB zod brings).
 * Our processes speak English only, so a bundle carries the English locale alone.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: resolve(args.resolveDir, '../locales'), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from './en.js';`,
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};

/**
 * Bundles `entry` (relative to the repository root) into `outfile`. A CommonJS file has no
 * `import.meta`: there `import.meta.url` names `src/bundle.cjs` below the bundle's directory (where
 * a package's source file sits relative to its package root, so `new URL('../migrations', …)`
 * finds a copy beside the bundle), and `import.meta.main` is false (an entry module's
 * `if (import.meta.main)` block does not run; the bundle's entry starts the process itself).
 * `external` names packages left to `require` at run time (native addons).
 */
export async function bundleForNode(entry: string, outfile: string, external: string[] = []): Promise<string> {
  await build({
    entryPoints: [`${ROOT_DIR}${entry}`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    logLevel: 'warning',
    external,
    banner: { js: 'var __bundleUrl=require("node:url").pathToFileURL(__dirname+"/src/bundle.cjs").href;' },
    define: { 'import.meta.url': '__bundleUrl', 'import.meta.main': 'false' },
    plugins: [zodEnglishOnly],
  });
  return outfile;
}
