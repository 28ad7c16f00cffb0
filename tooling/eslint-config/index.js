// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Rules that keep wall-clock time out of a package. semantics.md: the `Clock` is the only source of
 * time in the core packages, so replay and live read time the same way.
 */
const noWallClock = {
  'no-restricted-syntax': [
    'error',
    {
      selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
      message: 'Read time from the injected Clock, not Date.now() (semantics.md, "Time").',
    },
    {
      selector: "NewExpression[callee.name='Date'][arguments.length=0]",
      message: 'Read time from the injected Clock, not new Date() (semantics.md, "Time").',
    },
    {
      selector: "CallExpression[callee.object.name='performance'][callee.property.name='now']",
      message: 'Read time from the injected Clock, not performance.now().',
    },
  ],
};

const noTimers = {
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'No timers here: time moves only through the Clock.' },
    { name: 'setInterval', message: 'No timers here: time moves only through the Clock.' },
    { name: 'setImmediate', message: 'No timers here: time moves only through the Clock.' },
  ],
};

/**
 * @param {{ tsconfigRootDir: string, clock?: 'strict' | 'no-timers-allowed' | 'off' }} options
 *   `clock: 'strict'` forbids wall-clock reads and timers in source files (data manager, core);
 *   `'no-timers-allowed'` forbids wall-clock reads but allows timers (feeds that pace or reconnect).
 */
export function feedConfig({ tsconfigRootDir, clock = 'off' }) {
  const sourceRules =
    clock === 'strict' ? { ...noWallClock, ...noTimers } : clock === 'no-timers-allowed' ? noWallClock : {};
  return tseslint.config(
    { ignores: ['dist/**', 'bin/**', 'coverage/**', 'node_modules/**', '*.config.ts', '*.config.js', '*.config.mjs'] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        '@typescript-eslint/consistent-type-imports': 'error',
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/switch-exhaustiveness-check': 'error',
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        'no-console': 'error',
        eqeqeq: ['error', 'always'],
      },
    },
    {
      files: ['src/**/*.ts'],
      ignores: ['src/**/*.test.ts', 'src/**/*.bench.ts', 'src/testing/**'],
      rules: sourceRules,
    },
    {
      files: ['src/**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
      rules: {
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/unbound-method': 'off',
        'no-console': 'off',
      },
    },
    {
      // Command-line programs print, and time their own run on the wall clock; libraries do neither.
      files: ['src/cli.ts', 'src/cli/**/*.ts', 'src/*-cli.ts'],
      rules: { 'no-console': 'off', 'no-restricted-syntax': 'off' },
    },
  );
}
