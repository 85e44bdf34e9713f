import { useState, type MouseEvent } from "react";
import { ErrorText } from "@/components/Feedback";
import { api, GGUF_TYPES, type GgufType } from "@/lib/api";

// What each type means for someone choosing one (docs/gguf.md): the .bullet's 4-bit weights are dequantized first.
const HINTS: Record<GgufType, string> = {
  q8_0: "8-bit: within rounding of the .bullet model, about a quarter of f32's size",
  f16: "16-bit floats: within rounding of the .bullet model",
  f32: "32-bit floats: exactly the .bullet model, the largest file",
  q4_0: "4-bit: the smallest file, but rounding a second time changes a tiny model's output",
};

/** The model as a llama.cpp GGUF file: a tensor-type picker and the download (the server exports on first request). */
export function GgufDownload({ model }: { model: string }) {
  const [type, setType] = useState<GgufType>(GGUF_TYPES[0]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileName = `${model}-${type}.gguf`;

  // Fetched first, so a refused export shows the server's message instead of being saved as the file.
  async function save(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      saveBlob(await api.gguf(model, type), fileName);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="gguf-download" role="group" aria-label={`GGUF download of ${model}`} aria-busy={busy}>
      <a className="button" href={api.ggufUrl(model, type)} download={fileName} data-testid="download-gguf" onClick={save}
         title={`${HINTS[type]}. Runs in llama.cpp, Ollama and LM Studio.`}>
        {busy ? "Exporting…" : "Download GGUF"}
      </a>
      <select aria-label={`GGUF type for ${model}`} value={type} title={HINTS[type]} onChange={(e) => setType(e.target.value as GgufType)}>
        {GGUF_TYPES.map((t) => (
          <option key={t} value={t}>{t}</option>
        ))}
      </select>
      <ErrorText error={error} />
    </span>
  );
}

function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the blob asynchronously after the click; release it once the save has surely started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
