// Lint: typescript-eslint's recommended rules (syntax-level, no type information, so it stays fast
// enough for `npm test`). Formatting is Prettier's job: no stylistic rules here. Every rule turned
// off or tuned below says why; an `eslint-disable` comment in the code must name a rule that fires.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A generator action that finishes without waiting is one sync block: legal, and tested as such.
      'require-yield': 'off',
      // `_name` marks a parameter kept for its position or its type (e.g. a typed fake's signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Memory walks down its tree from the root node: `let node: MemoryNode = this`.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node', 'current'] }],
      // Optional peer dependencies are loaded lazily, only by the feature that needs them.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^better-sqlite3$', '^@opentelemetry/api$'] }],
    },
  },
  {
    // Worker functions travel as source text to worker threads: they can only reach modules with require().
    files: ['spec/workers/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['spec/workers/fixtures/*.js', '*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', exports: 'writable', module: 'writable', setTimeout: 'readonly' },
    },
  },
  {
    files: ['spec/**'],
    rules: {
      // Terminal output is checked for ANSI escapes.
      'no-control-regex': 'off',
      // `if (live) ((live = false), pending--)`: a test's compact bookkeeping.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
