import { describe, expect, it } from "vitest";
import { fingerprint } from "../../src/research/fingerprint.ts";

const before = "const DEPTH = 8;\nconst LR = 0.04;\n\nrun();\n";

describe("fingerprint", () => {
  it("gives the same id to the same change whatever the whitespace, comments or parent", () => {
    const a = fingerprint(before, "const DEPTH = 10;\nconst LR = 0.04;\n\nrun();\n");
    const b = fingerprint(before, "const  DEPTH = 10;   // deeper\nconst LR = 0.04;\nrun();\n");
    const onLaterParent = fingerprint("const DEPTH = 8;\nconst LR = 0.05;\nrun();\n", "const DEPTH = 10;\nconst LR = 0.05;\nrun();\n");
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).not.toBe(a); // the trailing comment is part of the line
    expect(fingerprint(before, "const DEPTH = 10;\nconst LR = 0.04;\n  \nrun();\n")).toBe(a);
    expect(onLaterParent).toBe(a);
  });

  it("tells different changes apart, and returns null for no change", () => {
    expect(fingerprint(before, before.replace("8", "10"))).not.toBe(fingerprint(before, before.replace("8", "12")));
    expect(fingerprint(before, before.replace("0.04", "0.05"))).not.toBe(fingerprint(before, before.replace("8", "12")));
    expect(fingerprint(before, `// a comment\n${before}\n\n`)).toBeNull();
  });
});
