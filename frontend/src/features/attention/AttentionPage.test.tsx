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
  it("opens the newest session that has trained when there are several", async () => {
    serve([{ ...session("queued"), step: 0, state: "queued" }, session("b"), session("a")]);
    const open = vi.fn();
    render(<AttentionPage sessionId={null} onOpenSession={open} />);
    await waitFor(() => expect(open).toHaveBeenCalledWith("b", true));
    expect(open).toHaveBeenCalledTimes(1);
  });
  it("says how to get attention maps when there are no sessions", async () => {
    serve([]);
    const { findByText } = render(<AttentionPage sessionId={null} onOpenSession={vi.fn()} />);
    await findByText(/No sessions yet/);
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
