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
      "Edit 1 (train.ts): the SEARCH text was not found. The closest lines of the file, 2-2, are (copy the SEARCH text from them):\n    2 | const LR = 0.04;\n\n" +
        "Edit 2 (train.ts): the SEARCH text matches 2 places (lines 3, 4); include more surrounding lines to pick one:\nfoo();\n\n" +
        "Edit 3 (prepare.ts): expected an existing file, got `prepare.ts`",
    );
  });

  const model = "class MLP {\n    forward(x) {\n        return f(x);\n    }\n}\n";

  it("matches a search text indented otherwise and re-indents the replacement the same way", () => {
    // Two spaces where the file has four, and tabs where it has spaces.
    for (const search of ["  forward(x) {\n    return f(x);\n  }", "\tforward(x) {\n\t\treturn f(x);\n\t}"]) {
      const unit = search.startsWith("\t") ? "\t" : "  ";
      const replace = `${unit}forward(x) {\n${unit}${unit}const h = g(x);\n${unit}${unit}if (h) {\n${unit}${unit}${unit}return f(h);\n${unit}${unit}}\n${unit}}`;
      expect(applyEdits({ "train.ts": model }, [{ file: "train.ts", search, replace }])["train.ts"]).toBe(
        "class MLP {\n    forward(x) {\n        const h = g(x);\n        if (h) {\n            return f(h);\n        }\n    }\n}\n",
      );
    }
  });

  it("replaces the whole file for an empty search text, and skips an edit repeated word for word", () => {
    const edit = { file: "train.ts", search: "const LR = 0.04;", replace: "const LR = 0.05;" };
    expect(applyEdits({ "train.ts": train }, [edit, edit])["train.ts"]).toBe(train.replace("0.04", "0.05"));
    expect(applyEdits({ "train.ts": train }, [{ file: "train.ts", search: "", replace: "new();" }])["train.ts"]).toBe("new();\n");
  });

  it("says when an edit quotes lines an earlier edit changed, or elides lines with ...", () => {
    const overlapping = () =>
      applyEdits({ "train.ts": train }, [
        { file: "train.ts", search: "const LR = 0.04;\nfoo();", replace: "const LR = 0.05;\nfoo();" },
        { file: "train.ts", search: "const DEPTH = 8;\nconst LR = 0.04;", replace: "const DEPTH = 9;\nconst LR = 0.04;" },
      ]);
    expect(overlapping).toThrow(
      "Edit 2 (train.ts): the SEARCH text was not found: it quotes lines 1-2, which Edit 1 already changed. Edits apply in order, each to the result of the one before: put both changes in one edit, or quote those lines as Edit 1 left them.",
    );
    const elided = () => applyEdits({ "train.ts": model }, [{ file: "train.ts", search: "class MLP {\n    // ... existing code ...\n}", replace: "class MLP {}" }]);
    expect(elided).toThrow("A SEARCH text is matched literally: `// ... existing code ...` does not stand for the lines it leaves out; quote every line.");
  });
});
