import type { ApplicationFunction } from "probot";
import { ResearchApp } from "./research-app.ts";

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
};

export default app;
