import { connect } from "node:net";
import type { Agent } from "../research/agent.ts";
import { MutationAgent } from "../research/mutation-agent.ts";
import { OpenAIAgent } from "../research/openai-agent.ts";
import { DEFAULT_CONFIG } from "../research/research-config.ts";
import { CliError, EXIT } from "./cli-error.ts";

/** OpenAI's endpoint, used when a key is set without a base URL. */
export const OPENAI_URL = "https://api.openai.com/v1";

/** The agent the loop will use and the line that tells the user which and why. */
export interface AgentChoice {
  agent: Agent;
  /** The endpoint an LLM agent talks to; null for the offline agent. */
  baseUrl: string | null;
  line: string;
}

/** What the agent can be chosen by besides the environment. */
export interface AgentFlags {
  /** `--agent`; by default the environment decides. */
  provider?: "openai" | "offline";
  /** `--model`; else OPENAI_MODEL, else the app's default. */
  model?: string;
}

/**
 * The OpenAI-compatible agent when `--agent openai` is given or OPENAI_API_KEY or
 * OPENAI_BASE_URL is set, else the offline mutation agent. A base URL without a key is a
 * keyless local server (Ollama, llama.cpp, vLLM).
 *
 * @param fixed - the consts of train.ts that the profile sets: the offline agent leaves them alone.
 *
 * @throws CliError (exit 4) when OpenAI itself is asked for without a key.
 */
export function chooseAgent(flags: AgentFlags, env: Record<string, string | undefined>, fixed: readonly string[] = []): AgentChoice {
  const configured = ["OPENAI_API_KEY", "OPENAI_BASE_URL"].filter((name) => env[name]);
  const provider = flags.provider ?? (configured.length ? "openai" : "offline");
  const { agent: defaults } = DEFAULT_CONFIG;
  if (provider === "offline") {
    const agent = new MutationAgent(defaults.seed, fixed);
    const why = flags.provider ? "--agent offline" : "neither OPENAI_API_KEY nor OPENAI_BASE_URL is set";
    const leaves = fixed.length ? ` It leaves ${fixed.join(", ")} alone: the profile sets them.` : "";
    return { agent, baseUrl: null, line: `Agent: the offline mutation agent (${agent.name}), because ${why}.${leaves}` };
  }
  const baseUrl = env.OPENAI_BASE_URL || OPENAI_URL;
  if (!env.OPENAI_API_KEY && baseUrl === OPENAI_URL) {
    throw new CliError(`Expected OPENAI_API_KEY to be set for ${OPENAI_URL}, got nothing. Set it, point OPENAI_BASE_URL at another endpoint, or use \`--agent offline\`.`, EXIT.agent);
  }
  const agent = new OpenAIAgent({
    baseUrl,
    apiKey: env.OPENAI_API_KEY || "none",
    model: flags.model ?? (env.OPENAI_MODEL || defaults.model),
    temperature: defaults.temperature,
    timeout: defaults.timeout * 1000,
    retries: defaults.retries,
    fixed,
  });
  const why = flags.provider ? "--agent openai" : `${configured.join(" and ")} ${configured.length > 1 ? "are" : "is"} set`;
  return { agent, baseUrl, line: `Agent: the OpenAI-compatible agent ${agent.name} at ${baseUrl}, because ${why}.` };
}

/**
 * Checks that the LLM endpoint accepts connections (a TCP connect, no request), so that a
 * wrong URL or a server that is down is reported before the first training run, not after it.
 *
 * @throws CliError (exit 4) naming the endpoint and suggesting the offline agent.
 */
export async function checkReachable(baseUrl: string, timeoutMs = 5000): Promise<void> {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CliError(`Expected OPENAI_BASE_URL to be an http(s) URL, got \`${baseUrl}\``, EXIT.agent);
  }
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const failure = await new Promise<string | null>((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port });
    const done = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once("connect", () => done(null));
    socket.once("error", (error) => done(error.message));
  });
  if (failure !== null) {
    throw new CliError(
      `Expected the LLM endpoint ${baseUrl} to be reachable, got ${failure}. Start the server or fix OPENAI_BASE_URL, or run without an LLM: \`--agent offline\`.`,
      EXIT.agent,
    );
  }
}
