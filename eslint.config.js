// Lint rules for the whole workspace. The Nx module-boundary rule keeps the layering of
// DESIGN.md honest: apps import libs, libs never import apps, and the foundation libs
// (crypto, later contracts) import nothing but the shared error vocabulary.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** The layering rule; `allow` lists import paths exempt from it. */
function boundaries(allow) {
  return {
    enforceBuildableLibDependency: false,
    allow,
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'layer:foundation', onlyDependOnLibsWithTags: ['scope:shared'] },
      // Core libs serve both modes; the cluster plumbing (messaging, service kit) stays out of them.
      { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:core', 'scope:shared'] },
      // The console runs in a browser: it may only use libs made for one (none yet), never node-only libs.
      { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['platform:browser'] },
    ],
  };
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', 'tmp/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { '@nx': nx },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': ['error', boundaries([])],
    },
  },
  {
    // The ops console (browser code, .ts and .tsx): TypeScript checks the names (no-undef would not
    // know the DOM), the layering rule applies as everywhere, and Node built-ins cannot sneak in.
    files: ['apps/console/src/**/*.ts', 'apps/console/src/**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': ['error', boundaries([])],
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'the console runs in a browser' }] }],
    },
  },
  {
    // Specs may use the shared test infrastructure (test/support), which is not a lib.
    files: ['**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(['^(\\.\\./)+test/support/[a-z-]+\\.js$'])],
    },
  },
);
