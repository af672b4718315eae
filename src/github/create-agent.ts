import type { Agent } from "../research/agent.ts";
import { MutationAgent } from "../research/mutation-agent.ts";
import { OpenAIAgent } from "../research/openai-agent.ts";
import type { ResearchConfig } from "../research/research-config.ts";

/** The endpoint used when neither the server nor the repository names one. */
export const DEFAULT_LLM_URL = "https://api.openai.com/v1";

/**
 * The agent a repository's config asks for. The LLM key lives on the app server
 * (`AUTORESEARCH_LLM_API_KEY`, else `OPENAI_API_KEY`) and is sent only to the server's
 * endpoint (`AUTORESEARCH_LLM_BASE_URL`): a repository that names another endpoint gets
 * no key, so a config file can never send the key elsewhere.
 *
 * @throws an Error saying what to set when the server's endpoint has no key.
 */
export function createAgent(config: ResearchConfig, env: Record<string, string | undefined>): Agent {
  const { agent } = config;
  if (agent.provider === "offline") return new MutationAgent(agent.seed);
  const serverUrl = env.AUTORESEARCH_LLM_BASE_URL ?? DEFAULT_LLM_URL;
  const baseUrl = agent.baseUrl ?? serverUrl;
  const serverKey = env.AUTORESEARCH_LLM_API_KEY ?? env.OPENAI_API_KEY;
  if (baseUrl === serverUrl && !serverKey) {
    throw new Error(
      `Expected an LLM key for ${serverUrl} in AUTORESEARCH_LLM_API_KEY on the app server, got none; or set \`agent.provider: offline\``,
    );
  }
  return new OpenAIAgent({
    baseUrl,
    apiKey: baseUrl === serverUrl ? serverKey! : "none",
    model: agent.model,
    temperature: agent.temperature,
    timeout: agent.timeout * 1000,
    retries: agent.retries,
  });
}
