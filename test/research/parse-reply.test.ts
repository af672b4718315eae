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

  it("is the inverse of formatReply", () => {
    const proposal = parseReply(reply);
    expect(parseReply(formatReply(proposal))).toEqual(proposal);
  });

  it.each([
    ["I think we should make the model deeper.", "Expected a `TITLE: <one line>` line, got none"],
    ["TITLE: x\nEDIT train.ts\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", "Expected a `HYPOTHESIS:` section with text, got none"],
    ["TITLE: x\nHYPOTHESIS: y", "Expected at least one `EDIT train.ts` block with SEARCH/REPLACE, got none"],
    ["TITLE: x\nHYPOTHESIS: y\nEDIT train.ts\n<<<<<<< SEARCH\na\n=======\nb", "Expected the SEARCH block of the edit to `train.ts` to end with `>>>>>>> REPLACE`"],
    ["TITLE: x\nHYPOTHESIS: y\nEDIT train.ts\n<<<<<<< SEARCH\n\n=======\nb\n>>>>>>> REPLACE", "Expected a non-empty SEARCH text in the edit to `train.ts`"],
    ["TITLE: x\nHYPOTHESIS: y\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", "Expected an `EDIT <file>` line before the SEARCH block on line 3"],
  ])("refuses %j", (text, message) => {
    expect(() => parseReply(text)).toThrow(new ReplyFormatError(message));
  });
});
