// npm run lint: typescript-eslint's recommended rules over the sources, tests, bench, fixtures
// generator and scripts, and, with type information, the rules about promises (a promise nobody
// awaits or catches, a promise where a callback's return is ignored); the formatting is
// prettier's (npm run lint runs both).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'vendor/', 'bench/results*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `{ targets: _omitted, ...row }` drops a field; tsc's noUnused* check the rest.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
      // A `let` that a cleanup closure reads before the assignment it waits for stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A terminal program matches escape sequences (\x1b) on purpose.
      'no-control-regex': 'off',
      // The screen separates its fields with two spaces; the tests match them as they look.
      'no-regex-spaces': 'off',
    },
  },
  {
    // The TypeScript of src/, test/, bench/ and fixtures/, with the types tsc sees (tsconfig.test.json).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test runs the tests it is given; what test() returns is for a runner of runners.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
);
