"""Running .bullet models: load, describe, generate (whole or streamed), perplexity, attention maps, logits."""
from __future__ import annotations

import base64
import ctypes
import os
from typing import Any, Iterator

from ._native import I32, I64, OUT_BUF, OUT_LEN, P, STR, call, call_json, encode_json, encode_str, NativeObject, register
from .arrays import from_bytes
from .notebook import closed_html, model_html

register({
    "bullet_model_load": (I32, [STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_model_load_bytes": (I32, [P, I64, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_model_info": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_model_generate": (I32, [I64, STR, STR, OUT_BUF, OUT_LEN]),
    "bullet_generator_create": (I32, [I64, STR, STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_generator_next": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_generator_result": (I32, [I64, OUT_BUF, OUT_LEN]),
    "bullet_model_perplexity": (I32, [I64, STR, OUT_BUF, OUT_LEN]),
    "bullet_model_attention": (I32, [I64, STR, OUT_BUF, OUT_LEN]),
    "bullet_model_logits": (I32, [I64, P, I64, I32, P, I64]),
    "bullet_scheduler_create": (I32, [I64, STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_scheduler_submit": (I32, [I64, STR, STR, ctypes.POINTER(ctypes.c_int64)]),
    "bullet_request_next": (I32, [I64, I32, OUT_BUF, OUT_LEN]),
    "bullet_request_result": (I32, [I64, OUT_BUF, OUT_LEN]),
})

BATCH_KEYS = ("threads", "cache_mb", "tokens_per_step", "max_sequences")

SAMPLING_KEYS = ("temperature", "top_k", "top_p", "repetition_penalty", "seed", "max_tokens", "stop", "context", "threads",
                 "top_logprobs")


def _options(sampling: dict[str, Any]) -> bytes | None:
    """Sampling keyword arguments as the JSON options of the native calls (None values are left out)."""
    unknown = sorted(set(sampling) - set(SAMPLING_KEYS))
    if unknown:
        raise TypeError(f"unknown sampling option(s) {', '.join(unknown)}; known: {', '.join(SAMPLING_KEYS)}")
    return encode_json({k: v for k, v in sampling.items() if v is not None})


class TokenStream(NativeObject):
    """Iterator of text pieces from a native generator (or a request on a Batch), one per token; `.result` holds the
    summary (tokens/s, ...) once it ends. With top_logprobs=k, `.choice` is why the token just yielded was chosen:
    {"chosen": {id, text, p, p_sampled}, "top": [k of those]} (p: the model's softmax; p_sampled: the probability it was
    drawn with)."""

    def __init__(self, model: "Model", prompt: str, sampling: dict[str, Any], batch: "Batch | None" = None):
        handle = ctypes.c_int64()
        if batch is None:
            call("bullet_generator_create", model.handle, encode_str(prompt), _options(sampling), ctypes.byref(handle))
        else:
            call("bullet_scheduler_submit", batch.handle, encode_str(prompt), _options(sampling), ctypes.byref(handle))
        self._handle: int | None = handle.value
        self._batched = batch is not None
        self._owner = batch or model  # keeps the native model (or scheduler) alive while this streams
        self.result: dict[str, Any] | None = None
        self.choice: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def _step(self) -> dict[str, Any]:
        if not self._batched:
            return call_json("bullet_generator_next", self._handle)
        while True:  # a batched step comes when the scheduler gets to it
            step = call_json("bullet_request_next", self._handle, 1000)
            if not step.get("waiting"):
                return step

    def __next__(self) -> str:
        if self._handle is None:
            raise StopIteration
        step = self._step()
        self.choice = step.get("choice")
        if step["done"]:
            self.result = call_json("bullet_request_result" if self._batched else "bullet_generator_result", self._handle)
            self.close()
            if step["text"]:
                return step["text"]
            raise StopIteration
        return step["text"]


class Batch(NativeObject):
    """Continuous batching over one model: generations submitted from any threads run together on one native thread,
    each weight block read once per step for all of them; each gets the tokens it would get alone."""

    _closed_message = "the batch is closed"

    def __init__(self, model: "Model", **options: Any):
        unknown = sorted(set(options) - set(BATCH_KEYS))
        if unknown:
            raise TypeError(f"unknown batching option(s) {', '.join(unknown)}; known: {', '.join(BATCH_KEYS)}")
        handle = ctypes.c_int64()
        call("bullet_scheduler_create", model.handle, encode_json({k: v for k, v in options.items() if v is not None}), ctypes.byref(handle))
        self._handle: int | None = handle.value
        self._model = model

    def submit(self, prompt: str, **sampling: Any) -> TokenStream:
        """Queues a generation (it joins at the next step): an iterator of text pieces, as Model.stream."""
        return TokenStream(self._model, prompt, sampling, batch=self)

    def generate(self, prompt: str, **sampling: Any) -> dict[str, Any]:
        """Runs one generation through the batch to the end: the summary Model.generate returns."""
        stream = self.submit(prompt, **sampling)
        for _ in stream:
            pass
        return stream.result or {}


class Model(NativeObject):
    """A loaded .bullet model (from a path or the file's bytes); use as a context manager or call close()."""

    _closed_message = "the model is closed"

    def __init__(self, source: str | os.PathLike[str] | bytes | bytearray | memoryview):
        handle = ctypes.c_int64()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            call("bullet_model_load_bytes", data, len(data), ctypes.byref(handle))
        else:
            call("bullet_model_load", encode_str(os.fspath(source)), ctypes.byref(handle))
        self._handle: int | None = handle.value
        self._info: dict[str, Any] | None = None

    @property
    def info(self) -> dict[str, Any]:
        """Header, tokenizer, tensors, warnings and the runtime's choices (head, kernel, weight bytes per token)."""
        if self._info is None:
            self._info = call_json("bullet_model_info", self.handle)
        return self._info

    @property
    def vocab_size(self) -> int:
        """Tokens in the model's vocabulary."""
        return self.info["header"]["vocab_size"]

    def generate(self, prompt: str, **sampling: Any) -> dict[str, Any]:
        """Generates to the end: dict with text, tokens, tokens_per_second, time_to_first_token_ms, stop_reason, seed (and
        choices, one per token, with top_logprobs=k: see TokenStream.choice)."""
        return call_json("bullet_model_generate", self.handle, encode_str(prompt), _options(sampling))

    def stream(self, prompt: str, **sampling: Any) -> TokenStream:
        """Generates token by token: an iterator of text pieces (its `.result` is set when it ends)."""
        return TokenStream(self, prompt, sampling)

    def batch(self, **options: Any) -> Batch:
        """A scheduler that runs many generations together (threads, cache_mb, tokens_per_step, max_sequences)."""
        return Batch(self, **options)

    def perplexity(self, text: str) -> dict[str, Any]:
        """Perplexity of text over sliding windows of max_context: perplexity, mean_nll, avg_token_probability, tokens_scored, windows."""
        return call_json("bullet_model_perplexity", self.handle, encode_str(text))

    def attention(self, text: str, return_tokens: bool = False) -> Any:
        """Attention weights [layers, heads, T, T] for the prompt (numpy float32 when available, else nested lists);
        with return_tokens, a pair (weights, token texts)."""
        result = call_json("bullet_model_attention", self.handle, encode_str(text))
        weights = from_bytes(base64.b64decode(result["weights_f32_base64"]), "f", result["shape"])
        return (weights, result["token_text"]) if return_tokens else weights

    def logits(self, ids: Any, reference: bool = False) -> Any:
        """Logits at the last position after feeding ids from position 0 (reference=True: the scalar definition)."""
        ids = [int(i) for i in ids]
        id_array = (ctypes.c_int32 * max(1, len(ids)))(*ids)
        vocab = self.vocab_size
        out = (ctypes.c_float * vocab)()
        call("bullet_model_logits", self.handle, id_array, len(ids), 1 if reference else 0, out, vocab)
        return from_bytes(bytes(out), "f", [vocab])

    def _repr_html_(self) -> str:
        return closed_html("Model") if self._handle is None else model_html(self.info)

    def __repr__(self) -> str:
        if self._handle is None:
            return "Model(closed)"
        h = self.info["header"]
        return f"Model({h['model_name']!r}, d={h['hidden_size']}, layers={h['num_layers']}, vocab={h['vocab_size']})"
