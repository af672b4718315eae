import { afterEach, describe, expect, it } from "vitest";
import { AgentError } from "../../src/research/agent.ts";
import type { ChatMessage } from "../../src/research/build-prompt.ts";
import { OpenAIAgent } from "../../src/research/openai-agent.ts";
import { formatPromptSize, measurePrompt, PROMPT_TOKENIZER } from "../../src/research/prompt-size.ts";
import { programMd, researchFiles } from "./fixtures.ts";
import { startScriptedLlm, type ScriptStep } from "./scripted-llm-server.ts";

const good = `TITLE: Raise MATRIX_LR to 0.05
HYPOTHESIS:
Larger Muon steps should converge faster in the fixed budget.
EDIT train.ts
<<<<<<< SEARCH
const MATRIX_LR = 0.04;
=======
const MATRIX_LR = 0.05;
>>>>>>> REPLACE
`;
const task = { files: researchFiles(), ledger: [] };

let server: Awaited<ReturnType<typeof startScriptedLlm>> | undefined;
afterEach(async () => server?.close());

async function agentFor(script: ScriptStep[], options: { retries?: number; timeout?: number } = {}) {
  server = await startScriptedLlm(script);
  const sleeps: number[] = [];
  const logs: string[] = [];
  const agent = new OpenAIAgent({
    baseUrl: server.url, apiKey: "sk-test", model: "test-model", temperature: 0.3, backoff: 1000,
    sleep: async (ms) => void sleeps.push(ms), log: (line) => void logs.push(line), ...options,
  });
  return { agent, sleeps, logs, requests: server.requests };
}

describe("OpenAIAgent", () => {
  it("sends program.md verbatim as the system prompt and parses the structured reply", async () => {
    const { agent, requests, logs } = await agentFor([{ reply: good, tokens: 1234 }]);
    const reply = await agent.propose(task);
    expect(reply).toEqual({
      proposal: {
        title: "Raise MATRIX_LR to 0.05",
        hypothesis: "Larger Muon steps should converge faster in the fixed budget.",
        edits: [{ file: "train.ts", search: "const MATRIX_LR = 0.04;", replace: "const MATRIX_LR = 0.05;" }],
      },
      text: good,
      tokens: 1234,
    });
    expect(agent.name).toBe("openai:test-model");
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe("/v1/chat/completions");
    expect(requests[0]!.headers.authorization).toBe("Bearer sk-test");
    expect(requests[0]!.body).toMatchObject({ model: "test-model", temperature: 0.3 });
    expect(requests[0]!.body.messages[0]).toEqual({ role: "system", content: programMd });
    expect(requests[0]!.body.messages[1]!.content).toContain(task.files["train.ts"]);
    // The log gives the prompt's size by the project's tokenizer and by the endpoint's count.
    const sent = requests[0]!.body.messages as ChatMessage[];
    const { chars, tokens } = measurePrompt(sent);
    expect(chars).toBe(sent[0]!.content.length + sent[1]!.content.length);
    expect(logs).toEqual([`openai:test-model: prompt of 2 messages, ${formatPromptSize({ chars, tokens })} (${PROMPT_TOKENIZER}); openai:test-model counted 1,224`]);
  });

  it("retries a malformed reply with backoff, showing the model its mistake", async () => {
    const { agent, sleeps, requests } = await agentFor([{ reply: "I would make it deeper.", tokens: 50 }, { reply: good, tokens: 70 }]);
    const reply = await agent.propose(task);
    expect(reply.tokens).toBe(120);
    expect(sleeps).toEqual([1000]);
    expect(requests[1]!.body.messages.slice(2)).toEqual([
      { role: "assistant", content: "I would make it deeper." },
      { role: "user", content: "Your reply could not be read: Expected a `TITLE: <one line>` line, got none. Reply again in exactly the format of program.md." },
    ]);
  });

  it("waits as long as a 429 asks, backs off exponentially on 5xx, and retries a timeout", async () => {
    const { agent, sleeps, requests } = await agentFor(
      [
        { status: 429, headers: { "retry-after": "7" }, body: { error: { message: "slow down" } } },
        { status: 503, body: { error: { message: "overloaded" } } },
        { reply: good, delay: 2000 },
        { reply: good },
      ],
      { timeout: 300 },
    );
    const reply = await agent.propose(task);
    expect(reply.proposal.title).toBe("Raise MATRIX_LR to 0.05");
    expect(sleeps).toEqual([7000, 2000, 4000]);
    expect(requests).toHaveLength(4);
  });

  it("reports after the retries are spent, with the tokens the failed tries cost", async () => {
    const { agent, sleeps } = await agentFor([{ reply: "no", tokens: 10 }, { reply: "still no", tokens: 20 }, { reply: "never", tokens: 30 }], { retries: 2 });
    const error = await agent.propose(task).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).tokens).toBe(60);
    expect((error as AgentError).message).toBe(
      `The LLM test-model at ${server!.url} failed after 3 tries: Expected a \`TITLE: <one line>\` line, got none`,
    );
    expect(sleeps).toEqual([1000, 2000]);
  });

  it("does not retry what cannot pass, such as a bad key", async () => {
    const { agent, requests } = await agentFor([{ status: 401, body: { error: { message: "bad key" } } }, { reply: good }]);
    await expect(agent.propose(task)).rejects.toThrow(/failed after 1 tries: 401 bad key/);
    expect(requests).toHaveLength(1);
  });

  it("carries the refused reply and the errors in the repair round", async () => {
    const { agent, requests } = await agentFor([{ reply: good }]);
    await agent.propose({ ...task, repair: { reply: "TITLE: old", errors: ["Edit 1 (train.ts): the SEARCH text was not found:\nx"] } });
    expect(requests[0]!.body.messages.slice(2)).toEqual([
      { role: "assistant", content: "TITLE: old" },
      {
        role: "user",
        content:
          "That proposal was refused:\n\n- Edit 1 (train.ts): the SEARCH text was not found:\nx\n\nFix it (or propose something else) and reply again in the same format.",
      },
    ]);
  });
});
