import { cleanup, render, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AttentionPage, snapshotAtOrBefore } from "./AttentionPage";

const session = (id: string) => ({ id, name: `run-${id}`, dataset: "poetry", created: null, state: "completed", step: 1, total_steps: 1, speed: 0,
  last_seq: 1, metrics: null, model_name: null, exports: [], can_resume_from_checkpoint: false });

function serve(sessions: unknown[]) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(sessions), { status: 200, headers: { "Content-Type": "application/json" } })));
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("AttentionPage", () => {
  it("opens the only session without asking", async () => {
    serve([session("only")]);
    const open = vi.fn();
    render(<AttentionPage sessionId={null} onOpenSession={open} />);
    await waitFor(() => expect(open).toHaveBeenCalledWith("only", true));
  });
  it("asks when there are several", async () => {
    serve([session("a"), session("b")]);
    const open = vi.fn();
    const { findByRole } = render(<AttentionPage sessionId={null} onOpenSession={open} />);
    await findByRole("option", { name: "run-b (completed)" });
    expect(open).not.toHaveBeenCalled();
  });
});

describe("snapshotAtOrBefore", () => {
  it("finds the snapshot a checkpoint's weights had last been seen at", () => {
    const snapshots = [{ step: 40 }, { step: 80 }, { step: 120 }];
    expect(snapshotAtOrBefore(snapshots, 100)).toBe(1);
    expect(snapshotAtOrBefore(snapshots, 120)).toBe(2);
    expect(snapshotAtOrBefore(snapshots, 10)).toBe(0);
  });
});
