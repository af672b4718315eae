import { describe, expect, it } from "vitest";
import { readMarker, writeMarker } from "../../src/github/marker.ts";

describe("markers", () => {
  it("round-trips JSON in an HTML comment, even when the JSON holds `-->`", () => {
    const data = { title: "try --> and <!-- here", n: 3, nested: { a: [1, null] } };
    const body = `# Title\n\nSome text.\n\n${writeMarker("experiment", data)}\n`;
    expect(body).not.toMatch(/-->[\s\S]*-->/);
    expect(readMarker("experiment", body)).toEqual(data);
    expect(readMarker("dashboard", body)).toBeNull();
  });

  it("reads nothing from a body without a marker or with a broken one", () => {
    expect(readMarker("experiment", null)).toBeNull();
    expect(readMarker("experiment", "just text")).toBeNull();
    expect(readMarker("experiment", "<!-- autoresearch:experiment {not json} -->")).toBeNull();
  });
});
