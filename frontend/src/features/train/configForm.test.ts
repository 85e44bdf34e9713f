import { describe, expect, it } from "vitest";
import { configFromRaw, fieldsFor, limitOf, mergeErrors, rawFromConfig, UNTIL_STOPPED_SECONDS, withLimit } from "./configForm";

const preset = { tokenizer: "bpe", vocab_size: 512, hidden_size: 64, learning_rate: 0.002, qat: false, sample_prompt: "The ", mystery: 3 };

describe("config form", () => {
  it("orders fields by group and keeps unknown keys last", () => {
    const fields = fieldsFor(preset);
    expect(fields.map((f) => f.key)).toEqual(["tokenizer", "vocab_size", "hidden_size", "learning_rate", "sample_prompt", "qat", "mystery"]);
    expect(fieldsFor({ ...preset, optimizer: "muon" }).find((f) => f.key === "optimizer")).toMatchObject({ kind: "choice", choices: ["adamw", "muon"] });
    expect(fields.find((f) => f.key === "tokenizer")).toMatchObject({ kind: "choice", choices: ["bpe", "char"] });
    expect(fields.find((f) => f.key === "qat")?.kind).toBe("boolean");
    expect(fields.find((f) => f.key === "mystery")?.group).toBe("Other");
  });

  it("turns typed values into a config and rejects what is not a number", () => {
    const fields = fieldsFor(preset);
    const raw = { ...rawFromConfig(preset), hidden_size: " 96 ", learning_rate: "fast", vocab_size: "", qat: true };
    const { config, errors } = configFromRaw(raw, fields);
    expect(config.hidden_size).toBe(96);
    expect(config.qat).toBe(true);
    expect(config.sample_prompt).toBe("The ");
    expect("learning_rate" in config).toBe(false);
    expect(errors).toEqual([
      { field: "vocab_size", message: "Vocabulary size is required" },
      { field: "learning_rate", message: 'Learning rate must be a number, not "fast"' },
    ]);
  });

  it("shows the browser's message first, then the server's, and unplaced messages apart", () => {
    const fields = fieldsFor(preset);
    const { byField, general } = mergeErrors(
      [{ field: "hidden_size", message: "Embedding dim must be a number" }],
      [
        { field: "hidden_size", message: "hidden_size 100 must be a positive multiple of 32" },
        { field: "vocab_size", message: "vocab_size 1 must be at least 2" },
        { field: "config", message: "unknown key 'colour'" },
        { field: null, message: "the session needs about 2 GB of memory and the budget is 1 GB" },
      ],
      fields,
    );
    expect(byField).toEqual({ hidden_size: "Embedding dim must be a number", vocab_size: "vocab_size 1 must be at least 2" });
    expect(general).toEqual(["unknown key 'colour'", "the session needs about 2 GB of memory and the budget is 1 GB"]);
  });
});

describe("train for", () => {
  const raw = rawFromConfig({ total_steps: 600, epochs: 0, time_budget_s: 0 });
  it("reads the limit the values set", () => {
    expect(limitOf(raw)).toEqual({ unit: "steps", value: 600 });
    expect(limitOf({ ...raw, total_steps: "0", epochs: "2" })).toEqual({ unit: "epochs", value: 2 });
    expect(limitOf({ ...raw, time_budget_s: "120" })).toEqual({ unit: "minutes", value: 2 });
    expect(limitOf({ ...raw, time_budget_s: String(UNTIL_STOPPED_SECONDS) })).toEqual({ unit: "untilStopped" });
  });
  it("sets one limit and clears the others, so a preset's steps do not also end the run", () => {
    expect(withLimit(raw, { unit: "minutes", value: 5 })).toMatchObject({ time_budget_s: "300", total_steps: "0", epochs: "0" });
    expect(withLimit(raw, { unit: "epochs", value: 3 })).toMatchObject({ time_budget_s: "0", total_steps: "0", epochs: "3" });
    expect(withLimit(raw, { unit: "untilStopped" })).toMatchObject({ time_budget_s: String(UNTIL_STOPPED_SECONDS), total_steps: "0" });
    expect(limitOf(withLimit(raw, { unit: "steps", value: 240 }))).toEqual({ unit: "steps", value: 240 });
  });
});
