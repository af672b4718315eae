/** Runs one reply of the proposal bench through the real agent, parser, applier, guards and type-check. */
import { readFileSync } from "node:fs";
import type { ResearchFiles } from "../../src/research/agent.ts";
import { OpenAIAgent } from "../../src/research/openai-agent.ts";
import { propose } from "../../src/research/propose.ts";
import { startScriptedLlm } from "../../test/research/scripted-llm-server.ts";
import type { ProposalCase } from "./cases.ts";

/** What happened to one reply. */
export interface CaseResult extends ProposalCase {
  acceptedFirst: boolean;
  acceptedAfterRepair: boolean;
  /** The refusal the agent read before its repair round (empty when accepted first). */
  refusal: string;
  /** Each refused item names the line it is about (a code error) or is about the reply's form. */
  namesLine: boolean;
  /** Each refused item that has an alternative says what to write instead. */
  saysInstead: boolean;
}

/** The reply text of `<name>.md` (or `<name>.repair.md`), with its templates filled in from `train`. */
export function replyText(name: string, train: string, repair = false): string | null {
  const url = new URL(`./${name}${repair ? ".repair" : ""}.md`, import.meta.url);
  let text: string;
  try {
    text = readFileSync(url, "utf8");
  } catch {
    return null;
  }
  return text
    .replace(/\{\{line: (.+?)\}\}/g, (_all, needle: string) => {
      const lines = train.split("\n").filter((l) => l.includes(needle));
      if (lines.length !== 1) throw new Error(`${name}: expected one line of train.ts to hold \`${needle}\`, got ${lines.length}`);
      return lines[0]!;
    })
    .replace(/\{\{train\.ts: "(.+?)" => "(.+?)"\}\}/g, (_all, from: string, to: string) => {
      if (!train.includes(from)) throw new Error(`${name}: expected train.ts to hold \`${from}\``);
      return train.replace(from, to);
    });
}

// One refused item: an error of the applier, the guards, the type-check or the parser.
const NAMES_LINE = /train\.ts:\d+:\d+|lines? \d+|^\s*\d+ \|/m;
const ABOUT_FORM = /^Your reply could not be read|^Expected only `train\.ts` to change/;
const INSTEAD = /Write instead|copy the SEARCH text|put both changes in one edit|quote every line/;
// Refusals with no alternative to offer: a forbidden global, a duplicate.
const NO_ALTERNATIVE = /Expected no use of|duplicate of the earlier experiment/;

/** The refused items of a repair message, one per bullet. */
function refusedItems(message: string): string[] {
  const body = message.replace(/^That proposal was refused:\n\n/, "").replace(/\n\nFix it[\s\S]*$/, "");
  return body.startsWith("Your reply could not be read") ? [body] : body.split(/\n(?=- )/).map((item) => item.replace(/^- /, ""));
}

/**
 * Sends the case's reply (then its repair, or the same reply again) from a scripted
 * OpenAI-compatible server to the real OpenAIAgent and `propose`, which type-checks against
 * the project at `root`.
 */
export async function runCase(c: ProposalCase, files: ResearchFiles, root: string): Promise<CaseResult> {
  const first = replyText(c.name, files["train.ts"])!;
  const second = replyText(c.name, files["train.ts"], true) ?? first;
  const server = await startScriptedLlm([{ reply: first }, { reply: second }]);
  try {
    const agent = new OpenAIAgent({ baseUrl: server.url, apiKey: "bench", model: "bench", retries: 1, sleep: async () => {}, log: () => {} });
    const result = await propose(agent, { files, ledger: [] }, root);
    const acceptedFirst = result.ok && server.requests.length === 1;
    const refusal = server.requests[1]?.body.messages.at(-1)?.content ?? "";
    const items = refusal ? refusedItems(refusal) : [];
    return {
      ...c,
      acceptedFirst,
      acceptedAfterRepair: result.ok,
      refusal,
      namesLine: items.every((item) => ABOUT_FORM.test(item) || NAMES_LINE.test(item)),
      saysInstead: items.every((item) => ABOUT_FORM.test(item) || NO_ALTERNATIVE.test(item) || INSTEAD.test(item)),
    };
  } finally {
    await server.close();
  }
}
