import { useEffect, useRef, useState, type CSSProperties } from "react";
import type { Sampling, TokenChoice } from "@/lib/api";
import { formatProbability, reshapingOf, rowsOf, showToken, tintOf } from "./tokenChoice";

export type GeneratedToken = { text: string; choice: TokenChoice | null };

/**
 * The generated text token by token, each tinted by the probability the model gave it; a token opens a popover with
 * the likeliest candidates at that step and how sampling reshaped them.
 */
export function TokenText({ prompt, tokens, sampling }: { prompt: string; tokens: GeneratedToken[]; sampling: Sampling }) {
  const [open, setOpen] = useState<{ index: number; left: number; top: number } | null>(null);
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => setOpen(null), [tokens.length === 0]);
  const explained = tokens.some((t) => t.choice);
  const toggle = (index: number, button: HTMLElement) => {
    if (open?.index === index) return setOpen(null);
    const box = host.current!.getBoundingClientRect();
    const at = button.getBoundingClientRect();
    setOpen({ index, left: Math.max(0, Math.min(at.left - box.left, box.width - 420)), top: at.bottom - box.top + 4 });
  };
  const choice = open ? tokens[open.index]?.choice : null;
  return (
    <div className="token-text" ref={host} onKeyDown={(e) => e.key === "Escape" && setOpen(null)}>
      <pre className="output" data-testid="gen-output"><span className="muted">{prompt}</span>{tokens.map((t, i) =>
        t.choice ? (
          // A span, not a <button>: a button lays out as a block and would swallow the line breaks of the text.
          <span key={i} role="button" tabIndex={0} className={`tok${open?.index === i ? " tok-on" : ""}`} style={{ background: tintOf(t.choice.chosen.p) }}
            aria-expanded={open?.index === i} aria-label={`Token ${i + 1}, ${showToken(t.text)}: ${formatProbability(t.choice.chosen.p)}; why this token`}
            onClick={(e) => toggle(i, e.currentTarget)}
            onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), toggle(i, e.currentTarget))}>{t.text}</span>
        ) : <span key={i}>{t.text}</span>)}</pre>
      {explained && <p className="muted small">Tinted by the model's probability for each token (red: unlikely, green: likely). Click a token to see why it was chosen.</p>}
      {open && choice && (
        <TokenPopover index={open.index} choice={choice} sampling={sampling} style={{ left: open.left, top: open.top }} onClose={() => setOpen(null)} />
      )}
    </div>
  );
}

function TokenPopover({ index, choice, sampling, style, onClose }: {
  index: number; choice: TokenChoice; sampling: Sampling; style: CSSProperties; onClose: () => void;
}) {
  const shape = reshapingOf(choice, sampling);
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), [index]);
  return (
    <div className="token-popover" role="dialog" aria-label={`Why token ${index + 1} was chosen`} style={style} data-testid="token-popover">
      <div className="panel-head">
        <h3>Token {index + 1}: <code>{showToken(choice.chosen.text)}</code></h3>
        <button type="button" ref={close} onClick={onClose} aria-label="Close">×</button>
      </div>
      <p className="small">
        Model probability <b>{formatProbability(choice.chosen.p)}</b>, drawn with <b>{formatProbability(choice.chosen.p_sampled)}</b>
        {shape.rank ? ` — the ${ordinal(shape.rank)} likeliest` : ` — not among the ${choice.top.length} likeliest`}.
      </p>
      {/* Bars are relative to the likeliest candidate, so small probabilities can still be compared. */}
      <table className="table candidates small">
        <thead>
          <tr><th scope="col">#</th><th scope="col">token</th><th scope="col" className="num">model</th><th scope="col" className="num" title="after the repetition penalty, temperature, top-k and top-p">drawn with</th></tr>
        </thead>
        <tbody>
          {rowsOf(choice).map((c, i) => (
            <tr key={c.id} className={c.chosen ? "candidate-chosen" : c.p_sampled === 0 ? "candidate-cut" : undefined}>
              <td>{i + 1}</td>
              <td><code>{showToken(c.text)}</code>{c.chosen && <span className="sr-only"> (chosen)</span>}</td>
              <td className="num"><span className="bar" style={{ width: `${Math.round((c.p / (choice.top[0]?.p || 1)) * 60)}px` }} />{formatProbability(c.p)}</td>
              <td className="num">{c.p_sampled === 0 ? "cut" : formatProbability(c.p_sampled)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">{shape.note} These {choice.top.length} hold {formatProbability(shape.topShare)} of the model's probability.</p>
    </div>
  );
}

function ordinal(n: number): string {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}
