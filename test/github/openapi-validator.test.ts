import { describe, expect, it } from "vitest";
import { validateRequest } from "./openapi-validator.ts";

// The validator is what makes the scenario tests fail on a request GitHub would reject; check that it does.
describe("validateRequest", () => {
  it("accepts well-formed requests and names their operation", () => {
    expect(validateRequest("PATCH", "/repos/o/r/git/refs/heads%2Fautoresearch%2Fn%2F3", { sha: "abc", force: false })).toEqual({ operationId: "git/update-ref", errors: [] });
    expect(validateRequest("GET", "/repos/o/r/issues?labels=autoresearch&state=all&per_page=100", undefined).errors).toEqual([]);
    expect(validateRequest("POST", "/repos/o/r/issues/comments/12/reactions", { content: "+1" }).operationId).toBe("reactions/create-for-issue-comment");
  });

  it.each([
    ["POST", "/repos/o/r/foo", {}, "GitHub has no endpoint POST /repos/o/r/foo"],
    ["GET", "/repos/o/r/issues?state=everything", undefined, 'query parameter `state`: expected one of ["open","closed","all"], got "everything"'],
    ["GET", "/repos/o/r/issues?perpage=5", undefined, "query parameter `perpage` is not declared"],
    ["GET", "/repos/o/r/pulls/abc", undefined, 'path parameter `pull_number`: expected an integer, got "abc"'],
    ["PUT", "/repos/o/r/pulls/3/merge", { merge_method: "fast-forward" }, 'body.merge_method: expected one of ["merge","squash","rebase"], got "fast-forward"'],
    ["POST", "/repos/o/r/pulls", { head: "x", base: "main", titel: "t" }, "body: unknown property `titel`"],
    ["PATCH", "/repos/o/r/git/refs/heads%2Fx", undefined, "the required body is missing"],
    ["POST", "/repos/o/r/issues/comments/12/reactions", { content: "thumbsup" }, 'body.content: expected one of ["+1","-1","laugh","confused","heart","hooray","rocket","eyes"], got "thumbsup"'],
  ])("refuses %s %s", (method, url, body, error) => {
    expect(validateRequest(method, url, body).errors).toContain(error);
  });
});
