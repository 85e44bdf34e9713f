import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigPanel } from "./ConfigPanel";

const presets = { tiny: { tokenizer: "bpe", hidden_size: 64, num_heads: 2, total_steps: 600 }, small: { tokenizer: "bpe", hidden_size: 128, num_heads: 4, total_steps: 2000 } };

/** A fetch that answers /api/config/validate with the server's rule for hidden_size. */
function serverValidator() {
  const calls: Record<string, unknown>[] = [];
  const fetchMock = vi.fn(async (request: Request) => {
    const config = await request.json();
    calls.push(config);
    const errors = config.hidden_size % 32 === 0 ? [] : [{ field: "hidden_size", message: `hidden_size ${config.hidden_size} must be a positive multiple of 32` }];
    return new Response(JSON.stringify({ valid: errors.length === 0, errors, config }), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

async function settle() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(300);
  });
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("ConfigPanel", () => {
  it("shows the server's message beside the field and withholds the config until it is valid", async () => {
    vi.useFakeTimers();
    const calls = serverValidator();
    const onChange = vi.fn();
    render(<ConfigPanel presets={presets} onChange={onChange} />);
    await settle();
    expect(onChange).toHaveBeenLastCalledWith({ tokenizer: "bpe", hidden_size: 64, num_heads: 2, total_steps: 600 });

    fireEvent.change(screen.getByLabelText("Embedding dim"), { target: { value: "100" } });
    await settle();
    expect(calls.at(-1)?.hidden_size).toBe(100);
    const message = screen.getByText("hidden_size 100 must be a positive multiple of 32");
    expect(message.closest("[data-field]")?.getAttribute("data-field")).toBe("hidden_size");
    expect(screen.getByLabelText("Embedding dim").getAttribute("aria-describedby")).toBe(message.id);
    expect(onChange).toHaveBeenLastCalledWith(null);

    fireEvent.change(screen.getByLabelText("Embedding dim"), { target: { value: "96" } });
    await settle();
    expect(screen.queryByText(/multiple of 32/)).toBeNull();
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ hidden_size: 96 }));
  });

  it("says when a field is not a number without asking the server to parse it", async () => {
    vi.useFakeTimers();
    serverValidator();
    render(<ConfigPanel presets={presets} onChange={() => undefined} />);
    fireEvent.change(screen.getByLabelText("Heads"), { target: { value: "two" } });
    await settle();
    expect(screen.getByText('Heads must be a number, not "two"')).toBeTruthy();
  });

  it("switches every field to another preset's values", async () => {
    vi.useFakeTimers();
    serverValidator();
    render(<ConfigPanel presets={presets} onChange={() => undefined} />);
    fireEvent.click(screen.getByRole("radio", { name: "small" }));
    await settle();
    expect((screen.getByLabelText("Embedding dim") as HTMLInputElement).value).toBe("128");
    expect((screen.getByLabelText("Steps") as HTMLInputElement).value).toBe("2000");
  });
});
