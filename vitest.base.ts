/**
 * The one vitest setup of every package and example: tests run on the TypeScript sources of the
 * workspace packages (through their `@mef/source` export condition), over `test/**\/*.test.ts`.
 * A package's `vitest.config.ts` calls {@link project} with its name and only what differs
 * (timeouts, a global setup that starts its real servers, type-level tests).
 */
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

type TestOptions = NonNullable<UserWorkspaceConfig['test']>;

/** What a package may set besides the shared setup. */
export type ProjectOptions = Omit<TestOptions, 'name' | 'typecheck'> & {
  /**
   * Run the type-level tests (`test/**\/*.test-d.ts`) through tsc with the package's
   * `tsconfig.typecheck.json`: an `@ts-expect-error` that finds no error fails.
   */
  readonly typeTests?: boolean;
};

/** The vitest project of one package or example. */
export function project(name: string, options: ProjectOptions = {}): UserWorkspaceConfig {
  const { typeTests, ...test } = options;
  return defineProject({
    resolve: { conditions: ['@mef/source'] },
    ssr: { resolve: { conditions: ['@mef/source'] } },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      ...(typeTests
        ? {
            typecheck: {
              enabled: true,
              include: ['test/**/*.test-d.ts'],
              tsconfig: './tsconfig.typecheck.json',
            },
          }
        : {}),
      ...test,
    },
  });
}
