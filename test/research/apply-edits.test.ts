import { describe, expect, it } from "vitest";
import { applyEdits, EditError } from "../../src/research/apply-edits.ts";

const train = "const DEPTH = 8;   \nconst LR = 0.04;\nfoo();\nfoo();\n";

describe("applyEdits", () => {
  it("replaces each search text once, in order, each edit seeing the previous one", () => {
    const changed = applyEdits({ "train.ts": train }, [
      { file: "train.ts", search: "const LR = 0.04;", replace: "const LR = 0.05;" },
      { file: "train.ts", search: "const LR = 0.05;\nfoo();", replace: "const LR = 0.06;\nbar();" },
    ]);
    expect(changed).toEqual({ "train.ts": "const DEPTH = 8;   \nconst LR = 0.06;\nbar();\nfoo();\n" });
  });

  it("matches despite trailing whitespace the model dropped", () => {
    const changed = applyEdits({ "train.ts": train }, [{ file: "train.ts", search: "const DEPTH = 8;\nconst LR = 0.04;", replace: "const DEPTH = 9;\nconst LR = 0.04;" }]);
    expect(changed["train.ts"]).toBe("const DEPTH = 9;\nconst LR = 0.04;\nfoo();\nfoo();\n");
  });

  it("names every edit that does not apply", () => {
    const apply = () =>
      applyEdits({ "train.ts": train }, [
        { file: "train.ts", search: "const LR = 0.4;", replace: "x" },
        { file: "train.ts", search: "foo();", replace: "bar();" },
        { file: "prepare.ts", search: "a", replace: "b" },
      ]);
    expect(apply).toThrow(EditError);
    expect(apply).toThrow(
      "Edit 1 (train.ts): the SEARCH text was not found:\nconst LR = 0.4;\n\n" +
        "Edit 2 (train.ts): the SEARCH text matches 2 places; include more surrounding lines:\nfoo();\n\n" +
        "Edit 3 (prepare.ts): expected an existing file, got `prepare.ts`",
    );
  });
});
