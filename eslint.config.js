import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
      // The namespace import lets the bundle keep only the zod the code uses (scripts/bundle.mjs).
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message: "import * as z from 'zod' (the bundle then keeps only the zod the code uses)",
        },
      ],
    },
  },
  {
    // Operators are pure: time comes from the injected scheduler, never from the wall clock.
    files: ['src/operators/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'Use scheduler.now(): operators take time from the injected scheduler.',
        },
        {
          object: 'Math',
          property: 'random',
          message: 'Randomness must be injected (seeded) into operators.',
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use scheduler.schedule().' },
        { name: 'setInterval', message: 'Use scheduler.schedule().' },
        { name: 'process', message: 'Operators take their configuration as arguments.' },
      ],
    },
  },
  {
    // The loaders of the CommonJS bundles (bin/load-bundle.cjs) and the command (bin/rxtrade.js, CommonJS
    // by bin/package.json): CommonJS themselves.
    files: ['**/*.cjs', 'bin/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
