import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/github/parse-command.ts";

describe("parseCommand", () => {
  it.each([
    ["@autoresearch rerun", "rerun"],
    ["Looks noisy.\n@autoresearch rerun please", "rerun"],
    ["cc @AutoResearch HOLD", "hold"],
    ["@autoresearch[bot] discard", "discard"],
    ["@autoresearch pause\n@autoresearch resume", "pause"],
    ["@autoresearch resume", "resume"],
  ])("reads %j as %s", (body, command) => {
    expect(parseCommand(body, "autoresearch")).toBe(command);
  });

  it.each([
    ["@autoresearch merge"],
    ["@autoresearch please rerun"],
    ["> @autoresearch discard"],
    ["email@autoresearch rerun"],
    ["@autoresearch-bot rerun"],
    ["rerun"],
  ])("ignores %j", (body) => {
    expect(parseCommand(body, "autoresearch")).toBeNull();
  });

  it("uses the installed app's own name", () => {
    expect(parseCommand("@my-lab rerun", "my-lab")).toBe("rerun");
    expect(parseCommand("@autoresearch rerun", "my-lab")).toBeNull();
  });
});
