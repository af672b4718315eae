import { describe, expect, it } from "vitest";
import { createAgent } from "../../src/github/create-agent.ts";
import { DEFAULT_CONFIG, type ResearchConfig } from "../../src/research/research-config.ts";

const withAgent = (agent: Partial<ResearchConfig["agent"]>): ResearchConfig => ({ ...DEFAULT_CONFIG, agent: { ...DEFAULT_CONFIG.agent, ...agent } });

describe("createAgent", () => {
  it("uses the offline mutation agent when asked", () => {
    expect(createAgent(withAgent({ provider: "offline", seed: 9 }), {}).name).toBe("mutation:seed=9");
  });

  it("uses the server's endpoint and key by default", () => {
    const agent = createAgent(withAgent({ model: "gpt-4.1-mini" }), { AUTORESEARCH_LLM_API_KEY: "sk-server" });
    expect(agent.name).toBe("openai:gpt-4.1-mini");
  });

  it("asks for a key when the server's endpoint has none", () => {
    expect(() => createAgent(DEFAULT_CONFIG, {})).toThrow(
      "Expected an LLM key for https://api.openai.com/v1 in AUTORESEARCH_LLM_API_KEY on the app server, got none; or set `agent.provider: offline`",
    );
  });

  it("never needs the key for an endpoint the repository names", () => {
    expect(createAgent(withAgent({ baseUrl: "http://gpu-box:8000/v1", model: "qwen" }), {}).name).toBe("openai:qwen");
  });
});
