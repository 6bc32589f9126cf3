// ESLint for the TypeScript sources and the JavaScript build/test scripts: typescript-eslint's recommended rules
// (syntax-level, fast), and no console output outside the CLI and the benchmarks (tests assert; the library
// returns and throws).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'build-*/', 'prebuilds/', 'node_modules/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The build and test scripts in plain JavaScript run under Node: its globals (process, Buffer, ...) exist.
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // .cjs files are CommonJS: require() is how they load modules (module, require and __dirname are defined).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The CLI and benchmarks print; the fuzz worker and the package test's child script report to their parent.
    files: ['lib/cli/**', 'benchmarks/**', 'scripts/**', 'test/fuzz/worker.ts', 'test/workers/**'],
    rules: { 'no-console': 'off' },
  },
);
