// Lint: TypeScript rules plus the house rules of docs/architecture.md, kept by the linter so they
// cannot rot: each layer imports only from the layers above it (static and dynamic imports alike),
// the pure layers (model, views, render) never touch the machine, and only src/host starts a
// process (docs/architecture.md). test/unit/lint/rules.test.ts feeds these rules violating files.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that touch the machine: none of them in a pure layer. */
const hostModules = ['node:child_process', 'node:fs', 'node:fs/promises', 'node:net', 'node:os', 'node:process',
  'child_process', 'fs', 'fs/promises', 'net', 'os'];
/** Modules that start processes: only src/host may use them. */
const spawningModules = ['node:child_process', 'child_process', 'node:cluster', 'cluster', 'execa', 'cross-spawn', 'zx'];

/** Layers in DESIGN.md order; a layer may import the ones listed for it and nothing else of src/. */
export const layers = {
  model: [],
  views: ['model'],
  host: ['model'],
  cni: ['model', 'host'],
  overlay: ['model', 'host'],
  lab: ['model', 'host', 'cni', 'overlay'],
  inspect: ['model', 'views', 'host', 'cni', 'overlay', 'lab'],
  trace: ['model', 'views', 'host', 'cni', 'overlay', 'lab', 'inspect'],
  tour: ['model', 'views', 'host', 'cni', 'overlay', 'lab', 'inspect', 'trace'],
  render: ['model', 'views'],
  web: ['model', 'views', 'host', 'cni', 'overlay', 'lab', 'inspect', 'trace', 'tour', 'render'],
  cli: ['model', 'views', 'host', 'cni', 'overlay', 'lab', 'inspect', 'trace', 'tour', 'render', 'web'],
};
const pure = new Set(['model', 'views', 'render']);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const layerRules = Object.entries(layers).map(([layer, allowed]) => {
  const forbidden = Object.keys(layers).filter((l) => l !== layer && !allowed.includes(l));
  const patterns = forbidden.map((l) => ({
    group: [`**/${l}/*`, `../${l}/*`, `../../${l}/*`],
    message: `src/${layer} may not import src/${l} (layers point one way: see docs/architecture.md).`,
  }));
  const banned = [...new Set([...(pure.has(layer) ? hostModules : []), ...(layer === 'host' ? [] : spawningModules)])];
  const paths = banned.map((name) => ({
    name,
    message: pure.has(layer) ? `src/${layer} is pure: no I/O (move it to src/host).` : `only src/host starts processes: add what you need to a module there (src/${layer} may not import ${name}).`,
  }));
  const dynamicLayers = forbidden.length ? `/(^|\\/)(${forbidden.join('|')})\\//` : undefined;
  const syntax = [
    { selector: 'ImportExpression[source.type!="Literal"]', message: 'import() takes a literal module name, so the layer rules can check it.' },
    ...(banned.length ? [
      { selector: `ImportExpression[source.value=/^(${banned.map(escape).join('|')})$/]`, message: `src/${layer} may not import() ${banned.join(', ')} (only src/host starts processes; pure layers do no I/O).` },
      { selector: `CallExpression[callee.name="require"][arguments.0.value=/^(${banned.map(escape).join('|')})$/]`, message: `src/${layer} may not require() ${banned.join(', ')}.` },
    ] : []),
    ...(dynamicLayers ? [{ selector: `ImportExpression[source.value=${dynamicLayers}]`, message: `src/${layer} may not import() src/${forbidden.join('|')} (layers point one way: see docs/architecture.md).` }] : []),
  ];
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns, paths }], 'no-restricted-syntax': ['error', ...syntax] },
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
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
  ...layerRules,
  {
    // Files stay readable (docs/architecture.md): a module over 300 lines or a function over 80 is split.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300 }],
      'max-lines-per-function': ['error', { max: 80, skipComments: true, skipBlankLines: true }],
    },
  },
  {
    // The front end of `podnet ui` (web/, built by Vite) draws what the server sends: from src/ it
    // may import only the API's types.
    files: ['web/src/**/*.ts', 'web/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+src/(?!web/api$)', message: 'web/ may import only the API types (src/web/api) from src/.' }] }],
    },
  },
);
