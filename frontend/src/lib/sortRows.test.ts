import { describe, expect, it } from "vitest";
import type { ModelSummary } from "@/lib/api";
import { nextSort, sortRows } from "./sortRows";

type Row = Pick<ModelSummary, "name" | "bytes" | "val_loss" | "created">;
const m = (name: string, bytes: number, val_loss: number | null, created: string): Row => ({ name, bytes, val_loss, created });
const models = [m("b", 300, 2.5, "2026-01-02"), m("a", 100, null, "2026-01-03"), m("c", 200, 1.5, "2026-01-01")];

describe("sortRows", () => {
  it("sorts numbers and text either way, missing values last", () => {
    expect(sortRows(models, { key: "bytes", descending: false }).map((x) => x.name)).toEqual(["a", "c", "b"]);
    expect(sortRows(models, { key: "val_loss", descending: false }).map((x) => x.name)).toEqual(["c", "b", "a"]);
    expect(sortRows(models, { key: "val_loss", descending: true }).map((x) => x.name)).toEqual(["b", "c", "a"]);
    expect(sortRows(models, { key: "created", descending: true }).map((x) => x.name)).toEqual(["a", "b", "c"]);
  });
  it("flips direction on the same column and starts a new one ascending unless it reads newest first", () => {
    expect(nextSort({ key: "bytes", descending: false }, "bytes")).toEqual({ key: "bytes", descending: true });
    expect(nextSort({ key: "bytes", descending: true }, "name")).toEqual({ key: "name", descending: false });
    expect(nextSort({ key: "bytes", descending: false }, "created", ["created"])).toEqual({ key: "created", descending: true });
  });
});
