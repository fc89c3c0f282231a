// Lint: typescript-eslint's type-aware recommended rules, lines under 120 characters and files under ~300
// lines (issue 12, point 7). Generated code and golden data are not linted: they are rewritten, not edited.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Written by scripts or tests, never by hand. */
const GENERATED = ['control-plane/src/envoy-api/generated/**'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/golden/**', '.tmp/**', 'test-artifacts/**', ...GENERATED] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
      'max-lines': ['error', { max: 300 }],
      // node:test's describe/it register a test and report its outcome themselves: nothing awaits them.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // A YAML location's line is a getter on its class (source/source.ts): a spread copies the file and key but
      // silently drops the line. errorAt(at, message) copies all three.
      'no-restricted-syntax': [
        'error',
        ...[
          "ObjectExpression > SpreadElement > Identifier[name='at']",
          "ObjectExpression > SpreadElement MemberExpression[computed=false][property.name='at']:not(.callee)",
          "CallExpression[callee.property.name='assign'] > Identifier[name='at']",
          "CallExpression[callee.property.name='assign'] > MemberExpression[property.name='at']",
          "CallExpression[callee.name='structuredClone'] > Identifier[name='at']",
          "CallExpression[callee.name='structuredClone'] > MemberExpression[property.name='at']",
        ].map((selector) => ({
          selector,
          message: "a location's line is a getter that a copy drops: use errorAt(at, message)",
        })),
      ],
      // `_name` marks a parameter or binding kept for its position or its type.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Plain JavaScript (this file, bin/): no type information to check against.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
