import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { applyEdits } from "../../src/research/apply-edits.ts";
import { fingerprint } from "../../src/research/fingerprint.ts";
import type { LedgerEntry } from "../../src/research/ledger.ts";
import { MutationAgent } from "../../src/research/mutation-agent.ts";
import { OpenAIAgent } from "../../src/research/openai-agent.ts";
import { checkReachable, chooseAgent, OPENAI_URL } from "../../src/local/choose-agent.ts";
import { CliError } from "../../src/local/cli-error.ts";
import { TRAIN_PROFILE_OVERRIDES } from "../../src/runner/train-profiles.ts";
import { researchFiles } from "../research/fixtures.ts";

describe("chooseAgent", () => {
  it("is the offline mutation agent when no LLM is configured, and says why", () => {
    const choice = chooseAgent({}, {});
    expect(choice.agent).toBeInstanceOf(MutationAgent);
    expect(choice).toMatchObject({ baseUrl: null, line: "Agent: the offline mutation agent (mutation:seed=1), because neither OPENAI_API_KEY nor OPENAI_BASE_URL is set." });
    expect(chooseAgent({ provider: "offline" }, { OPENAI_API_KEY: "sk-x" }).line).toBe("Agent: the offline mutation agent (mutation:seed=1), because --agent offline.");
  });

  it("gives the offline agent only the consts that the profile leaves to train.ts", async () => {
    const fixed = Object.keys(TRAIN_PROFILE_OVERRIDES.cpu!);
    const { agent, line } = chooseAgent({}, {}, fixed);
    expect(line).toBe(`Agent: the offline mutation agent (mutation:seed=1), because neither OPENAI_API_KEY nor OPENAI_BASE_URL is set. It leaves ${fixed.join(", ")} alone: the profile sets them.`);
    const files = researchFiles();
    const changed = new Set<string>();
    const ledger: LedgerEntry[] = [];
    for (let n = 1; n <= 30; n++) {
      const { proposal } = await agent.propose({ files, ledger });
      for (const edit of proposal.edits) changed.add(/const (\w+)/.exec(edit.search)![1]!);
      const train = applyEdits({ "train.ts": files["train.ts"] }, proposal.edits)["train.ts"]!;
      ledger.push({ n, title: proposal.title, hypothesis: "", fingerprint: fingerprint(files["train.ts"], train), valBpb: 1, delta: 0, outcome: "regressed", crash: null });
    }
    expect(changed.size).toBeGreaterThan(5);
    expect([...changed].filter((name) => fixed.includes(name))).toEqual([]);
  });

  it("is the OpenAI-compatible agent when a key or a base URL is set", () => {
    const openai = chooseAgent({}, { OPENAI_API_KEY: "sk-x" });
    expect(openai.agent).toBeInstanceOf(OpenAIAgent);
    expect(openai).toMatchObject({ baseUrl: OPENAI_URL, line: `Agent: the OpenAI-compatible agent openai:gpt-4.1 at ${OPENAI_URL}, because OPENAI_API_KEY is set.` });
    const local = chooseAgent({}, { OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", OPENAI_MODEL: "qwen3" });
    expect(local).toMatchObject({ baseUrl: "http://127.0.0.1:11434/v1", line: "Agent: the OpenAI-compatible agent openai:qwen3 at http://127.0.0.1:11434/v1, because OPENAI_BASE_URL is set." });
    const both = chooseAgent({ model: "gpt-5" }, { OPENAI_API_KEY: "k", OPENAI_BASE_URL: "https://llm.example/v1", OPENAI_MODEL: "ignored" });
    expect(both.line).toBe("Agent: the OpenAI-compatible agent openai:gpt-5 at https://llm.example/v1, because OPENAI_API_KEY and OPENAI_BASE_URL are set.");
  });

  it("refuses OpenAI itself without a key", () => {
    expect(() => chooseAgent({ provider: "openai" }, {})).toThrow(
      new CliError("Expected OPENAI_API_KEY to be set for https://api.openai.com/v1, got nothing. Set it, point OPENAI_BASE_URL at another endpoint, or use `--agent offline`.", 4),
    );
  });
});

describe("checkReachable", () => {
  it("accepts an endpoint that takes connections and names one that does not, suggesting the offline agent", async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await expect(checkReachable(`http://127.0.0.1:${port}/v1`)).resolves.toBeUndefined();
    await new Promise((resolve) => server.close(resolve));

    const error = await checkReachable(`http://127.0.0.1:${port}/v1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(4);
    expect((error as CliError).message).toBe(
      `Expected the LLM endpoint http://127.0.0.1:${port}/v1 to be reachable, got connect ECONNREFUSED 127.0.0.1:${port}. Start the server or fix OPENAI_BASE_URL, or run without an LLM: \`--agent offline\`.`,
    );
    await expect(checkReachable("not a url")).rejects.toThrow("Expected OPENAI_BASE_URL to be an http(s) URL, got `not a url`");
  });
});
