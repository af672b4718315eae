import { setTimeout as sleep } from "node:timers/promises";
import type { ApplicationFunction } from "probot";
import { ResearchApp } from "./research-app.ts";

/** How long a process told to stop waits for its steps in progress and frees its locks before it exits. */
const STOP_MS = 10_000;

/**
 * What SIGTERM (a redeploy) and SIGINT run: stop the app within {@link STOP_MS} (see
 * {@link ResearchApp.stop}), so the next process need not wait for this one's leases, then exit.
 */
export const stopThenExit = (research: ResearchApp, exit: (code: number) => void) => () =>
  // Unreferenced: the server keeps the process alive until the exit.
  void research.stop(sleep(STOP_MS, undefined, { ref: false })).finally(() => exit(0));

/**
 * The Probot entry point (`probot run ./src/github/index.ts`). Environment:
 * - `AUTORESEARCH_LLM_BASE_URL`, `AUTORESEARCH_LLM_API_KEY`: the LLM endpoint and its key;
 * - `AUTORESEARCH_TICK_MINUTES` (default 10): how often to sweep for lost webhooks and the research hours;
 * - `AUTORESEARCH_TYPECHECK=0`: skip the type-check of proposals (when the server has no copy of the engine).
 */
const app: ApplicationFunction = (probot) => {
  const research = new ResearchApp(probot, { root: process.env.AUTORESEARCH_TYPECHECK === "0" ? null : process.cwd() });
  const minutes = Number(process.env.AUTORESEARCH_TICK_MINUTES ?? 10);
  const tick = () => research.tick().catch((error: unknown) => probot.log.error(error, "autoresearch: sweep failed"));
  setTimeout(tick, 10_000).unref();
  setInterval(tick, minutes * 60_000).unref();
  // Once: a second signal kills the process at once.
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, stopThenExit(research, (code) => process.exit(code)));
};

export default app;
