// Lint: TypeScript rules plus the layer rule of ../shared/DESIGN.md — each layer imports only from
// the layers above it, and the pure layers (model, render) never touch the machine.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const hostModules = ['node:child_process', 'node:fs', 'node:fs/promises', 'node:net', 'node:os', 'node:process',
  'child_process', 'fs', 'fs/promises', 'net', 'os'];

/** Layers in DESIGN.md order; a layer may import the ones listed for it and nothing else of src/. */
const layers = {
  model: [],
  host: ['model'],
  cni: ['model', 'host'],
  overlay: ['model', 'host'],
  lab: ['model', 'host', 'cni', 'overlay'],
  inspect: ['model', 'host', 'cni', 'overlay', 'lab'],
  trace: ['model', 'host', 'cni', 'overlay', 'lab', 'inspect'],
  render: ['model'],
  web: ['model', 'host', 'cni', 'overlay', 'lab', 'inspect', 'trace', 'render'],
  cli: ['model', 'host', 'cni', 'overlay', 'lab', 'inspect', 'trace', 'render', 'web'],
};
const pure = new Set(['model', 'render']);

const layerRules = Object.entries(layers).map(([layer, allowed]) => {
  const forbidden = Object.keys(layers).filter((l) => l !== layer && !allowed.includes(l));
  const patterns = forbidden.map((l) => ({
    group: [`**/${l}/*`, `../${l}/*`, `../../${l}/*`],
    message: `src/${layer} may not import src/${l} (layers point one way: see ../shared/DESIGN.md).`,
  }));
  const paths = pure.has(layer)
    ? hostModules.map((name) => ({ name, message: `src/${layer} is pure: no I/O (move it to src/host).` }))
    : [];
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns, paths }] },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  ...layerRules,
  {
    // The front end of `podnet ui` (web/, built by Vite) draws what the server sends: from src/ it
    // may import only the API's types.
    files: ['web/src/**/*.ts', 'web/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+src/(?!web/api$)', message: 'web/ may import only the API types (src/web/api) from src/.' }] }],
    },
  },
);
