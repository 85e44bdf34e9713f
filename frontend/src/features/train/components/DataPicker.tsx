import { useEffect, useRef, useState } from "react";
import { api, ApiError, type DatasetDetail, type DatasetSummary } from "@/lib/api";
import { ErrorText, ProgressBar, Stat } from "@/components/Feedback";
import { formatBytes, formatCount } from "@/lib/format";
import { usePoll } from "@/hooks/usePoll";
import { useUpload } from "@/hooks/useUpload";

type Mode = "bundled" | "upload" | "paste";

/** Bundled and uploaded datasets, upload by drag-and-drop with progress, or pasted text; shows the chosen one's counts. */
export function DataPicker({ selected, onSelect }: { selected: string | null; onSelect: (name: string) => void }) {
  const [mode, setMode] = useState<Mode>("bundled");
  const list = usePoll(() => api.datasets(), 0, []);
  const [detail, setDetail] = useState<DatasetDetail | null>(null);
  const [detailError, setDetailError] = useState<ApiError | null>(null);

  // Nothing chosen yet: start on the first bundled dataset, so "Train now" works at once.
  useEffect(() => {
    if (!selected && list.data?.length) onSelect(list.data.find((d) => d.bundled)?.name ?? list.data[0].name);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, list.data]);

  useEffect(() => {
    if (!selected) return setDetail(null);
    let alive = true;
    api.dataset(selected).then(
      (d) => alive && (setDetail(d), setDetailError(null)),
      (e) => alive && setDetailError(e),
    );
    return () => {
      alive = false;
    };
  }, [selected]);

  const added = (d: DatasetDetail) => {
    list.reload();
    onSelect(d.name);
    setMode("bundled");
  };

  return (
    <section className="panel" aria-labelledby="data-title">
      <h2 id="data-title">Training data</h2>
      <div className="segmented" role="tablist" aria-label="Data source">
        {(["bundled", "upload", "paste"] as Mode[]).map((m) => (
          <button key={m} role="tab" aria-selected={mode === m} className={mode === m ? "seg seg-on" : "seg"} onClick={() => setMode(m)}>
            {m === "bundled" ? "Datasets" : m === "upload" ? "Upload" : "Paste"}
          </button>
        ))}
      </div>
      {mode === "bundled" && <DatasetList datasets={list.data ?? []} error={list.error} selected={selected} onSelect={onSelect} />}
      {mode === "upload" && <UploadZone onAdded={added} />}
      {mode === "paste" && <PasteBox onAdded={added} />}
      <ErrorText error={detailError} />
      {detail && (
        <div className="dataset-detail" aria-label={`Dataset ${detail.name}`}>
          <div className="stats">
            <Stat label="Size" value={formatBytes(detail.bytes)} />
            <Stat label="Characters" value={formatCount(detail.characters)} />
            <Stat label="Words" value={formatCount(detail.words)} />
            <Stat label="Distinct chars" value={formatCount(detail.distinct_characters)} />
          </div>
          <pre className="preview">{detail.preview.slice(0, 400)}</pre>
        </div>
      )}
    </section>
  );
}

function DatasetList({ datasets, error, selected, onSelect }: { datasets: DatasetSummary[]; error: ApiError | null; selected: string | null; onSelect: (n: string) => void }) {
  return (
    <div>
      <ErrorText error={error} />
      <ul className="dataset-list" role="radiogroup" aria-label="Datasets">
        {datasets.map((d) => (
          <li key={d.name}>
            <button type="button" role="radio" aria-checked={selected === d.name} className={selected === d.name ? "row row-on" : "row"} onClick={() => onSelect(d.name)}>
              <span className="row-title">{d.title || d.name}</span>
              <span className="muted small">{d.bundled ? "bundled" : "uploaded"} · {formatBytes(d.bytes)}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function UploadZone({ onAdded }: { onAdded: (d: DatasetDetail) => void }) {
  const [over, setOver] = useState(false);
  const { progress, error, send } = useUpload(api.uploadDataset, onAdded);
  const input = useRef<HTMLInputElement>(null);

  return (
    <div>
      <div
        className={`dropzone${over ? " dropzone-over" : ""}`}
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          send(e.dataTransfer.files[0]);
        }}
      >
        <p>Drop a .txt, .md, .jsonl or .docx file here</p>
        <button type="button" onClick={() => input.current?.click()}>Choose a file…</button>
        <input ref={input} type="file" accept=".txt,.md,.jsonl,.docx" hidden data-testid="dataset-file" onChange={(e) => send(e.target.files?.[0])} />
      </div>
      {progress !== null && <ProgressBar value={progress} label="Upload progress" />}
      <ErrorText error={error} />
    </div>
  );
}

function PasteBox({ onAdded }: { onAdded: (d: DatasetDetail) => void }) {
  const [text, setText] = useState("");
  const [name, setName] = useState("pasted");
  const [error, setError] = useState<ApiError | null>(null);
  const save = async () => {
    setError(null);
    try {
      onAdded(await api.datasetFromText(name.trim(), text));
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <div className="paste">
      <label htmlFor="paste-text">Text</label>
      <textarea id="paste-text" rows={6} value={text} onChange={(e) => setText(e.target.value)} />
      <p className="muted small">{formatCount(text.length)} characters · {formatCount(text.split(/\s+/).filter(Boolean).length)} words · {new Set(text).size} distinct characters</p>
      <label htmlFor="paste-name">Name</label>
      <input id="paste-name" value={name} onChange={(e) => setName(e.target.value)} />
      <button type="button" onClick={save} disabled={!text.trim()}>Save as dataset</button>
      <ErrorText error={error} />
    </div>
  );
}
