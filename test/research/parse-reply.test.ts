import { describe, expect, it } from "vitest";
import { formatReply } from "../../src/research/format-reply.ts";
import { parseReply, ReplyFormatError } from "../../src/research/parse-reply.ts";

const reply = `Sure! Here is my proposal.

TITLE: Raise MATRIX_LR to 0.05
HYPOTHESIS:
Muon steps are small at depth 8.
A 25% larger matrix LR should lower val_bpb by ~0.002.

EDIT train.ts
\`\`\`ts
<<<<<<< SEARCH
const MATRIX_LR = 0.04;
=======
const MATRIX_LR = 0.05;
>>>>>>> REPLACE
\`\`\`
EDIT train.ts
<<<<<<< SEARCH
  if (x) {
    y();
=======
>>>>>>> REPLACE
`;

describe("parseReply", () => {
  it("reads the title, the hypothesis and every edit, tolerating prose and code fences", () => {
    expect(parseReply(reply)).toEqual({
      title: "Raise MATRIX_LR to 0.05",
      hypothesis: "Muon steps are small at depth 8.\nA 25% larger matrix LR should lower val_bpb by ~0.002.",
      edits: [
        { file: "train.ts", search: "const MATRIX_LR = 0.04;", replace: "const MATRIX_LR = 0.05;" },
        { file: "train.ts", search: "  if (x) {\n    y();", replace: "" },
      ],
    });
  });

  it("reads Windows line endings and markdown emphasis on the keywords", () => {
    const text = "**TITLE:** Deeper\r\n**HYPOTHESIS:** More layers.\r\nEDIT: `train.ts`\r\n<<<<<<< SEARCH\r\nconst DEPTH = 8;\r\n=======\r\nconst DEPTH = 10;\r\n>>>>>>> REPLACE\r\n";
    expect(parseReply(text)).toEqual({
      title: "Deeper",
      hypothesis: "More layers.",
      edits: [{ file: "train.ts", search: "const DEPTH = 8;", replace: "const DEPTH = 10;" }],
    });
  });

  it("is the inverse of formatReply, whole files included", () => {
    const proposal = parseReply(reply);
    expect(parseReply(formatReply(proposal))).toEqual(proposal);
    const whole = { ...proposal, edits: [{ file: "train.ts", search: "", replace: wholeFile }] };
    expect(parseReply(formatReply(whole))).toEqual(whole);
  });

  const wholeFile = 'import * as torch from "./src/engine/index.ts";\nimport { MAX_SEQ_LEN } from "./prepare.ts";\nconst DEPTH = 10;';

  it("reads what models write instead: headings, fences inside blocks, no EDIT line, a diff, a whole file", () => {
    const headings = "## Title: Deeper\n**Hypothesis:**\nMore layers.\n\n### EDIT `train.ts`\n<<<<<<< SEARCH\n```ts\nconst DEPTH = 8;\n```\n=======\n```ts\nconst DEPTH = 10;\n```\n>>>>>>> REPLACE\n";
    const bare = "TITLE: Deeper\nHYPOTHESIS: More layers.\n\ntrain.ts\n```ts\n<<<<<<< SEARCH\nconst DEPTH = 8;\n=======\nconst DEPTH = 10;\n>>>>>>> REPLACE\n```\n";
    const unmarked = "TITLE: Deeper\nHYPOTHESIS: More layers.\n<<<<<<< SEARCH\nconst DEPTH = 8;\n=======\nconst DEPTH = 10;\n>>>>>>> REPLACE\n";
    const depth = [{ file: "train.ts", search: "const DEPTH = 8;", replace: "const DEPTH = 10;" }];
    for (const text of [headings, bare, unmarked]) expect(parseReply(text)).toEqual({ title: "Deeper", hypothesis: "More layers.", edits: depth });

    const diff = "TITLE: Deeper\nHYPOTHESIS: More layers.\n```diff\n--- a/train.ts\n+++ b/train.ts\n@@ -20,3 +20,3 @@\n // Model size\n-const DEPTH = 8;\n+const DEPTH = 10;\n\n@@ -40 +40 @@\n-const LR = 1;\n+const LR = 2;\n```\n";
    expect(parseReply(diff).edits).toEqual([
      { file: "train.ts", search: "// Model size\nconst DEPTH = 8;\n", replace: "// Model size\nconst DEPTH = 10;\n" },
      { file: "train.ts", search: "const LR = 1;", replace: "const LR = 2;" },
    ]);

    const rewrite = `TITLE: Deeper\nHYPOTHESIS: More layers.\nHere is the new file:\n\n\`\`\`typescript\n${wholeFile}\n\`\`\`\n`;
    expect(parseReply(rewrite)).toEqual({ title: "Deeper", hypothesis: "More layers.\nHere is the new file:", edits: [{ file: "train.ts", search: "", replace: wholeFile }] });
  });

  it.each([
    ["I think we should make the model deeper.", "Expected a `TITLE: <one line>` line, got none"],
    ["TITLE: x\nEDIT train.ts\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", "Expected a `HYPOTHESIS:` section with text, got none"],
    ["TITLE: x\nHYPOTHESIS: y", "Expected at least one `EDIT train.ts` block with SEARCH/REPLACE, got none"],
    ["TITLE: x\nHYPOTHESIS: y\nEDIT train.ts\n<<<<<<< SEARCH\na\n=======\nb", "Expected the SEARCH block of the edit to `train.ts` to end with `>>>>>>> REPLACE`"],
    ["TITLE: x\nHYPOTHESIS: y\nEDIT train.ts\n<<<<<<< SEARCH\n\n=======\nb\n>>>>>>> REPLACE", "Expected a non-empty SEARCH text in the edit to `train.ts`"],
    ["TITLE: x\nHYPOTHESIS: y\n```ts\nconst DEPTH = 10;\n```", "Expected SEARCH/REPLACE blocks, got a code block of 1 lines that is neither a diff nor a whole train.ts (a whole file imports ./src/engine/index.ts and ./prepare.ts): quote the lines to change in `EDIT train.ts` SEARCH/REPLACE blocks"],
  ])("refuses %j", (text, message) => {
    expect(() => parseReply(text)).toThrow(new ReplyFormatError(message));
  });
});
