/**
 * The proposal bench: realistic LLM replies (bench/proposals/*.md) run through the real agent,
 * parser, applier, guards and type-check against the current train.ts, with no live LLM. It
 * reports how many are accepted first time and after one repair round, whether each refusal
 * names its line and says what to write instead, and the prompt's size with the engine reference
 * against the README it replaced. Target: every well-formed reply whose code is valid for the
 * engine is accepted first time. The last line is JSON.
 *
 * Usage: npm run bench:proposals [-- --verbose]   (prints every refusal the agent would read)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildPrompt } from "../src/research/build-prompt.ts";
import { engineReference } from "../src/research/engine-reference.ts";
import { measurePrompt, PROMPT_TOKENIZER } from "../src/research/prompt-size.ts";
import { CASES } from "./proposals/cases.ts";
import { runCase, type CaseResult } from "./proposals/run-case.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");
const files = { "program.md": read("program.md"), "prepare.ts": read("prepare.ts"), "train.ts": read("train.ts") };
const verbose = process.argv.includes("--verbose");

const results: CaseResult[] = [];
for (const c of CASES) {
  const r = await runCase(c, files, root);
  results.push(r);
  const outcome = r.acceptedFirst ? "accepted" : r.acceptedAfterRepair ? "repaired" : "refused twice";
  const quality = r.refusal ? `${r.namesLine ? "names line" : "NO LINE"}, ${r.saysInstead ? "says instead" : "NO INSTEAD"}` : "";
  console.log(`${r.valid ? "valid  " : "invalid"} ${outcome.padEnd(13)} ${r.name.padEnd(26)} ${quality.padEnd(26)} ${r.style}`);
  if (verbose && r.refusal) console.log(`${r.refusal.replace(/^/gm, "    | ")}\n`);
}

const count = (pick: (r: CaseResult) => boolean) => results.filter(pick).length;
const valid = results.filter((r) => r.valid);
const refused = results.filter((r) => r.refusal !== "");
const summary = {
  replies: results.length,
  accepted_first: count((r) => r.acceptedFirst),
  accepted_after_repair: count((r) => r.acceptedAfterRepair),
  valid_replies: valid.length,
  valid_accepted_first: valid.filter((r) => r.acceptedFirst).length,
  invalid_refused_first: count((r) => !r.valid && !r.acceptedFirst),
  refusals: refused.length,
  refusals_naming_line: refused.filter((r) => r.namesLine).length,
  refusals_saying_instead: refused.filter((r) => r.saysInstead).length,
};

// The prompt's size with the engine reference, and with the README it replaced in its place.
const prompt = buildPrompt({ files, ledger: [] });
const withReadme = prompt.map((m) => ({ ...m, content: m.content.replace(engineReference(), read("README.md")) }));
const [after, before] = [measurePrompt(prompt), measurePrompt(withReadme)];

console.log("");
console.log(`accepted first time:          ${summary.accepted_first}/${summary.replies}`);
console.log(`accepted after one repair:    ${summary.accepted_after_repair}/${summary.replies}`);
console.log(`valid replies accepted first: ${summary.valid_accepted_first}/${summary.valid_replies} (target: all)`);
console.log(`invalid replies refused:      ${summary.invalid_refused_first}/${summary.replies - summary.valid_replies}`);
console.log(`refusals naming the line:     ${summary.refusals_naming_line}/${summary.refusals}; saying what to write instead: ${summary.refusals_saying_instead}/${summary.refusals}`);
console.log(`prompt (empty ledger), tokens by ${PROMPT_TOKENIZER}:`);
console.log(`  with docs/engine-api.md: ${after.chars} chars, ${after.tokens ?? "n/a"} tokens; with README.md in its place: ${before.chars} chars, ${before.tokens ?? "n/a"} tokens`);
console.log(JSON.stringify({ ...summary, prompt_tokens: after.tokens, prompt_tokens_with_readme: before.tokens, prompt_chars: after.chars, prompt_chars_with_readme: before.chars }));
