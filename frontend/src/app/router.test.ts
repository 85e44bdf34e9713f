import { describe, expect, it } from "vitest";
import { parseRoute, pathOf, runsPath } from "./router";

describe("router", () => {
  it("reads the tab and the session or model from the path", () => {
    expect(parseRoute("/train/20261126-001547-b20018")).toMatchObject({ tab: "train", id: "20261126-001547-b20018" });
    expect(parseRoute("/playground/my%20model")).toMatchObject({ tab: "playground", id: "my model" });
    expect(parseRoute("/models")).toMatchObject({ tab: "models", id: null });
    expect(parseRoute("/", "?dataset=poetry").query.get("dataset")).toBe("poetry");
    expect(parseRoute("/nowhere/x")).toMatchObject({ tab: "train", id: null });
  });
  it("writes paths that parse back", () => {
    expect(pathOf("attention", "s 1")).toBe("/attention/s%201");
    expect(parseRoute(pathOf("attention", "s 1")).id).toBe("s 1");
    expect(pathOf("models")).toBe("/models");
    const runs = parseRoute("/runs", runsPath(["a", "b c"]).slice("/runs".length));
    expect(runs.tab).toBe("runs");
    expect(runs.query.get("compare")?.split(",")).toEqual(["a", "b c"]);
  });
});
