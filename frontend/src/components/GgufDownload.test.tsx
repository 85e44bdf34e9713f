import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ModelsPage } from "@/features/models/ModelsPage";
import { Verification } from "@/features/train/components/Verification";
import { GgufDownload } from "./GgufDownload";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const link = (scope: HTMLElement = document.body) => within(scope).getByRole("link", { name: "Download GGUF" }) as HTMLAnchorElement;

describe("GgufDownload", () => {
  it("links the chosen type's export with a file name that says the type (q8_0 first)", () => {
    render(<GgufDownload model="fox tales" />);
    expect(link().getAttribute("href")).toBe("/api/models/fox%20tales/gguf?type=q8_0");
    expect(link().getAttribute("download")).toBe("fox tales-q8_0.gguf");
    const picker = screen.getByRole("combobox", { name: "GGUF type for fox tales" });
    expect([...picker.querySelectorAll("option")].map((o) => o.textContent)).toEqual(["q8_0", "f16", "f32", "q4_0"]);
    fireEvent.change(picker, { target: { value: "q4_0" } });
    expect(link().getAttribute("href")).toBe("/api/models/fox%20tales/gguf?type=q4_0");
    expect(link().getAttribute("download")).toBe("fox tales-q4_0.gguf");
    expect(link().title).toMatch(/second time/);
  });

  it("sits beside the .bullet download in the models table and after a build", async () => {
    const models = [{ name: "alpha", bytes: 1000 }, { name: "beta", bytes: 2000 }];
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(models), { status: 200, headers: { "Content-Type": "application/json" } })));
    render(<ModelsPage onOpenInPlayground={() => undefined} />);
    for (const name of ["alpha", "beta"]) {
      const row = (await screen.findByText(name)).closest("tr") as HTMLElement;
      expect(within(row).getByRole("link", { name: "Download" }).getAttribute("href")).toBe(`/api/models/${name}/download`);
      expect(link(row).getAttribute("href")).toBe(`/api/models/${name}/gguf?type=q8_0`);
    }
    cleanup();
    render(<Verification model="gamma" numbers={{ float_perplexity: 5, bq4_perplexity: 5.1 }} />);
    expect(link().getAttribute("href")).toBe("/api/models/gamma/gguf?type=q8_0");
  });

  it("saves the fetched export under the type's file name", async () => {
    const fetchMock = vi.fn(async () => new Response(new Blob(["GGUF"]), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    vi.spyOn(URL, "createObjectURL").mockReturnValue("blob:gguf");
    vi.spyOn(URL, "revokeObjectURL").mockImplementation(() => undefined);
    const saved: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(`${this.download} ${this.href}`);
    });
    render(<GgufDownload model="fox" />);
    fireEvent.change(screen.getByRole("combobox", { name: "GGUF type for fox" }), { target: { value: "f16" } });
    fireEvent.click(link());
    await waitFor(() => expect(saved).toEqual(["fox-f16.gguf blob:gguf"]));
    expect(fetchMock).toHaveBeenCalledWith("/api/models/fox/gguf?type=f16");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a refused export's message instead of saving it as the file", async () => {
    const refusal = { detail: "model 'fox' cannot be exported as GGUF: the vocabulary is too large" };
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(refusal), { status: 422, headers: { "Content-Type": "application/json" } })));
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click");
    render(<GgufDownload model="fox" />);
    fireEvent.click(link());
    expect((await screen.findByRole("alert")).textContent).toMatch(/vocabulary is too large/);
    expect(click).not.toHaveBeenCalled();
  });
});
