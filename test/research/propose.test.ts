import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../../src/research/fingerprint.ts";
import { formatReply } from "../../src/research/format-reply.ts";
import { OpenAIAgent } from "../../src/research/openai-agent.ts";
import { propose } from "../../src/research/propose.ts";
import { FIXTURE_ROOT, fixtureTrain, researchFiles } from "./fixtures.ts";
import { startScriptedLlm } from "./scripted-llm-server.ts";

const edit = (search: string, replace: string, file = "train.ts") => ({ file, search, replace });
const reply = (title: string, ...edits: Array<ReturnType<typeof edit>>) => formatReply({ title, hypothesis: `${title}, because.`, edits });

const deeper = reply("Depth 10", edit("const DEPTH = 8;", "const DEPTH = 10;"));
const touchesPrepare = reply("Longer budget", edit("export const TIME_BUDGET = 1;", "export const TIME_BUDGET = 100;", "prepare.ts"));
const malicious = reply("Read the key", edit("const DEPTH = 8;", "const DEPTH = process.env.KEY ? 9 : 8;"));
const earlierDeeper = fingerprint(fixtureTrain, fixtureTrain.replace("const DEPTH = 8;", "const DEPTH = 10;"))!;
const ledger = [{ n: 1, title: "Try depth 10", hypothesis: "", fingerprint: earlierDeeper, valBpb: 1, delta: 0.01, outcome: "regressed" as const, crash: null }];

let server: Awaited<ReturnType<typeof startScriptedLlm>> | undefined;
afterEach(async () => server?.close());

async function agentFor(replies: string[]) {
  server = await startScriptedLlm(replies.map((r) => ({ reply: r, tokens: 100 })));
  return new OpenAIAgent({ baseUrl: server.url, apiKey: "k", model: "m", retries: 1, sleep: async () => {}, log: () => {} });
}

describe("propose", () => {
  it("survives garbage, refuses a change to prepare.ts, then refuses a duplicate in the repair round", async () => {
    const agent = await agentFor(["<html>502 Bad Gateway</html>", touchesPrepare, deeper]);
    const result = await propose(agent, { files: researchFiles(), ledger }, FIXTURE_ROOT);
    expect(result).toEqual({
      ok: false,
      errors: [
        "Expected only `train.ts` to change, got a change to `prepare.ts`",
        'Expected a new experiment, got a duplicate of the earlier experiment "Try depth 10"',
      ],
      tokens: 300,
      agent: "openai:m",
    });
    // The repair request carried the refusal.
    expect(server!.requests[2]!.body.messages.at(-1)!.content).toContain("Expected only `train.ts` to change, got a change to `prepare.ts`");
  });

  it("repairs a malicious proposal into a good one", async () => {
    const agent = await agentFor([malicious, deeper]);
    const result = await propose(agent, { files: researchFiles(), ledger: [] }, FIXTURE_ROOT);
    expect(result).toMatchObject({ ok: true, tokens: 200, fingerprint: earlierDeeper, proposal: { title: "Depth 10" } });
    expect(result.ok && result.train).toBe(fixtureTrain.replace("const DEPTH = 8;", "const DEPTH = 10;"));
    expect(server!.requests[1]!.body.messages.at(-1)!.content).toMatch(/Expected no use of `process`/);
  });

  it("reports an agent that gives up", async () => {
    const agent = await agentFor(["nope", "nope again"]);
    const result = await propose(agent, { files: researchFiles(), ledger: [] });
    expect(result).toEqual({
      ok: false,
      errors: [`The LLM m at ${server!.url} failed after 2 tries: Expected a \`TITLE: <one line>\` line, got none`],
      tokens: 200,
      agent: "openai:m",
    });
  });
});
