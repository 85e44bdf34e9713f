"""Models: the .bullet files, what the native reader reports of them, and running them."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from pydantic import Field

from .base import ApiModel, Reply
from .system import StyleValues


class ModelSummary(Reply):
    """A model as listed: its file, dims and the numbers of its training and export."""
    name: str
    bytes: int
    model_name: Optional[str] = None
    created: Optional[str] = None
    session_id: Optional[str] = Field(None, description="the session that trained it")
    source: Optional[str] = Field(None, description="session, upload, or file (copied into the models folder by hand)")
    vocab_size: Optional[int] = None
    hidden_size: Optional[int] = None
    num_layers: Optional[int] = None
    num_heads: Optional[int] = None
    max_context: Optional[int] = None
    parameters: Optional[int] = None
    steps: Optional[int] = None
    val_loss: Optional[float] = Field(None, description="the best held-out loss of its training (null when it never held text out)")
    float_perplexity: Optional[float] = None
    bq4_perplexity: Optional[float] = None
    top1_agreement: Optional[float] = None
    warnings: Optional[int] = Field(None, description="how many warnings the native reader has")
    error: Optional[str] = Field(None, description="why the file cannot be read, for a broken one")


class TokenizerInfo(Reply):
    """The model's tokenizer as the native reader sees it."""
    vocab_size: int
    merges: Optional[int] = Field(None, description="BPE merges (0 for a character tokenizer)")
    has_unk: Optional[bool]
    has_space: Optional[bool]
    first_tokens: List[str] = []


class TensorRow(Reply):
    """One tensor of the file: name, shape, type, where it lies and whether the runtime uses it."""
    name: Optional[str] = Field(..., description="null when the file names the tensor only by a hash the reader does not know")
    hash: Optional[str] = Field(None, description="the tensor's name hash as the file stores it")
    shape: List[int]
    quant_type: str = Field(..., description="BQ4 or F32")
    bytes: int
    offset: int
    used: Optional[bool] = Field(None, description="false for a tensor the runtime does not read")


class ModelInspect(Reply):
    """The native inspect report of a .bullet file, and the model's summary."""
    file_size: int
    header: Dict[str, Any] = Field(..., description="the file's JSON header")
    tokenizer: TokenizerInfo
    tensor_count: int
    parameters: int
    tensors: List[TensorRow]
    warnings: List[str]
    summary: ModelSummary


class Sampling(ApiModel):
    """How the next token is drawn."""
    temperature: float = Field(0.8, ge=0, le=5, description="0 = greedy")
    top_k: int = Field(40, ge=0, le=100_000, description="0 = off")
    top_p: float = Field(0.95, gt=0, le=1)
    repetition_penalty: float = Field(1.1, gt=0, le=10)
    max_tokens: int = Field(200, ge=1, le=8192)
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1)
    top_logprobs: int = Field(0, ge=0, le=20, description="explain each token: its probability and the k likeliest candidates (0 = off)")

    def options(self) -> Dict[str, Any]:
        """The sampling options as the native library takes them."""
        return self.dict()


class GenerateBody(Sampling):
    """A prompt and how to sample from it."""
    prompt: str = Field("", max_length=100_000)
    stream: bool = Field(False, description="stream tokens as Server-Sent Events (GenerationToken data; 'done' with the Generation)")

    class Config:
        examples = [{"prompt": "Once upon a time", "max_tokens": 80, "temperature": 0.8, "seed": 7}]


class Candidate(Reply):
    """A token the model could have picked."""
    id: int
    text: str
    p: float = Field(..., description="its softmax probability")
    p_sampled: float = Field(..., description="the probability the sampler drew it with (after temperature, top-k, top-p, penalty)")


class TokenChoice(Reply):
    """Why a token was chosen (computed by the native runtime): the chosen one and the likeliest candidates, likeliest first."""
    chosen: Candidate
    top: List[Candidate]


class Generation(Reply):
    """A finished generation: the text, its tokens and how it went."""
    text: str
    tokens: List[int]
    token_count: int
    prompt_tokens: List[int]
    prompt_tokens_dropped: int = Field(..., description="prompt tokens beyond the model's context, dropped from the front")
    stop_reason: str = Field(..., description="max_tokens, stop (a stop string), context_full, cancelled or error")
    tokens_per_second: Optional[float]
    time_to_first_token_ms: Optional[float]
    seed: int = Field(..., description="the seed it sampled with (give it back to repeat the text)")
    slides: int = Field(..., description="how often the context window slid")
    choices: Optional[List[TokenChoice]] = Field(None, description="with top_logprobs: why each token was chosen")


class GenerationToken(Reply):
    """A piece of a streamed generation (the data of each Server-Sent Event; id = index)."""
    index: int = Field(..., description="the token's place, from 1")
    text: str
    elapsed_ms: float = Field(..., description="since the generation started")
    choice: Optional[TokenChoice] = Field(None, description="with top_logprobs: why this token was chosen")

    class Config:
        every_field_present = False  # "choice" only with top_logprobs


class TextForModel(ApiModel):
    """A text to run the model over."""
    text: str = Field(..., min_length=1, max_length=5_000_000)


class Perplexity(Reply):
    """How well the model predicts a text."""
    perplexity: float = Field(..., description="exp of the mean negative log-likelihood per token")
    mean_nll: float
    avg_token_probability: float = Field(..., description="1 / perplexity: the geometric mean probability of each next token")
    tokens_scored: int
    windows: int = Field(..., description="context windows the text was scored in")


class StyleBody(Sampling):
    """The original writing to compare a generated passage with, and how to sample it."""
    text: Optional[str] = Field(None, description="the original writing (or give dataset)")
    dataset: Optional[str] = None
    prompt: Optional[str] = Field(None, description="default: the word that most often starts the original's sentences (not its first word)")
    passage_chars: int = Field(600, ge=50, le=20_000, description="length of the original passage shown and scored")


class Copied(Reply):
    """How much of a generated passage is copied word for word from the original (computed natively)."""
    ngram: int
    ngrams: int
    copied: int
    share: Optional[float] = Field(..., description="copied / ngrams; null when the passage is shorter than one n-gram")
    longest_copied_words: int
    definition: str


class OriginalPassage(Reply):
    """The passage of the original writing, its style metrics and the original's length in words."""
    passage: str
    metrics: StyleValues
    words: int


class GeneratedPassage(Reply):
    """The generated passage, its style metrics and how much of it is copied."""
    prompt: str
    text: str
    metrics: Optional[StyleValues] = Field(..., description="null when the model wrote only spaces")
    copied: Optional[Copied]
    tokens_per_second: Optional[float]


class StyleReport(Reply):
    """The original beside a generated passage, and the model's confidence on the original."""
    original: OriginalPassage
    generated: GeneratedPassage
    confidence: Perplexity
    definitions: Dict[str, str]
