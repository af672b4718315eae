/**
 * Just enough of vitest's API (describe, it, it.each, skipIf, afterEach, expect) to run
 * test/engine/cuda on a GPU host that has node but no npm packages. bundle.ts aliases "vitest"
 * to this file; run() executes the collected tests in order and reports like vitest does.
 */
import { isDeepStrictEqual, inspect } from "node:util";

type Fn = () => unknown;
interface Suite {
  name: string;
  skip: boolean;
  tests: { name: string; fn: Fn }[];
  children: Suite[];
  afterEach: Fn[];
  parent: Suite | null;
}

const root: Suite = { name: "", skip: false, tests: [], children: [], afterEach: [], parent: null };
let current = root;

function addSuite(name: string, fn: Fn, skip: boolean): void {
  const suite: Suite = { name, skip: skip || current.skip, tests: [], children: [], afterEach: [], parent: current };
  current.children.push(suite);
  current = suite;
  fn();
  current = suite.parent!;
}

/** vitest's printf-style titles: each %s / %d / %i / %f takes the next argument. */
function title(name: string, args: unknown[]): string {
  let i = 0;
  return name.replace(/%[sdif]/g, () => String(args[i++]));
}

export const describe = Object.assign((name: string, fn: Fn) => addSuite(name, fn, false), {
  skip: (name: string, fn: Fn) => addSuite(name, fn, true),
  skipIf: (cond: boolean) => (name: string, fn: Fn) => addSuite(name, fn, cond),
});

export const it = Object.assign((name: string, fn: Fn) => void current.tests.push({ name, fn }), {
  each: <T>(table: readonly T[]) => (name: string, fn: (...args: any[]) => unknown) => {
    for (const row of table) {
      const args = Array.isArray(row) ? row : [row];
      current.tests.push({ name: title(name, args), fn: () => fn(...args) });
    }
  },
});
export const test = it;

export function afterEach(fn: Fn): void {
  current.afterEach.push(fn);
}

export function expect(actual: unknown, message?: string) {
  const fail = (what: string): never => {
    throw new Error(`${message ? `${message}: ` : ""}expected ${inspect(actual, { maxArrayLength: 8 })} ${what}`);
  };
  const num = () => actual as number;
  return {
    toBe: (v: unknown) => void (Object.is(actual, v) || fail(`to be ${inspect(v)}`)),
    toEqual: (v: unknown) => void (isDeepStrictEqual(actual, v) || fail(`to equal ${inspect(v, { maxArrayLength: 8 })}`)),
    toBeLessThan: (v: number) => void (num() < v || fail(`to be less than ${v}`)),
    toBeLessThanOrEqual: (v: number) => void (num() <= v || fail(`to be less than or equal to ${v}`)),
    toBeGreaterThan: (v: number) => void (num() > v || fail(`to be greater than ${v}`)),
    toThrow: (pattern?: RegExp | string) => {
      try {
        (actual as Fn)();
      } catch (e) {
        const text = (e as Error).message;
        const ok = pattern === undefined || (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text));
        if (!ok) fail(`to throw an error matching ${pattern}, got "${text}"`);
        return;
      }
      fail("to throw");
    },
  };
}

/** Runs every collected test; returns the number of failures. */
export async function run(): Promise<number> {
  let passed = 0, failed = 0, skipped = 0;
  const visit = async (suite: Suite, path: string[], hooks: Fn[]): Promise<void> => {
    const names = suite.name ? [...path, suite.name] : path;
    const allHooks = [...hooks, ...suite.afterEach];
    for (const t of suite.tests) {
      const label = [...names, t.name].join(" > ");
      if (suite.skip) {
        skipped++;
        continue;
      }
      const started = performance.now();
      try {
        try {
          await t.fn();
        } finally {
          for (const h of allHooks) await h();
        }
        passed++;
        console.log(`  ✓ ${label} (${(performance.now() - started).toFixed(0)} ms)`);
      } catch (e) {
        failed++;
        console.log(`  ✗ ${label}\n      ${(e as Error).message.split("\n").join("\n      ")}`);
      }
    }
    for (const child of suite.children) await visit(child, names, allHooks);
  };
  await visit(root, [], []);
  console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed;
}
