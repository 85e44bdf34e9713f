"""OpenAI's request and response shapes for the /v1 routes, as OpenAI documents them, narrowed to what this server
accepts and writes (the native OpenAI service reads and writes the bytes; these models only document them)."""
from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Type, Union

from pydantic import BaseModel, Field, conlist, constr

from .base import ApiModel, Reply

MAX_STOPS = 4          # OpenAI's limit, which the native service keeps
MAX_TOP_LOGPROBS = 20  # the most candidates the native service lists per token
MAX_SEED = 2 ** 53     # seeds travel as JSON numbers, exact up to 2^53


def omissible(description: str, **constraints: Any) -> Any:
    """A field a body may leave out but not set to null, as OpenAI types it (a None default would add null to the
    schema; a default factory leaves the schema without a default, which openapi-typescript would make required)."""
    return Field(default_factory=lambda: None, description=description, **constraints)


# ----- requests ---------------------------------------------------------------------------------------------------

class OpenAIStreamOptions(ApiModel):
    """Options of a streamed answer."""
    include_usage: bool = omissible("true: one more chunk before `data: [DONE]`, with empty choices and the usage")


class OpenAIChatCompletionContentPartText(ApiModel):
    """A text part of a message's content."""
    type: Literal["text"]
    text: str


MessageContent = Union[str, List[OpenAIChatCompletionContentPartText]]


class OpenAIChatCompletionMessageParam(ApiModel):
    """A system, developer or user message of a chat request."""
    role: Literal["system", "developer", "user"] = Field(..., description="system and developer text comes first, "
                                                        "then each user message as a `User:` turn")
    content: MessageContent = Field(..., description="the text, or a list of text parts (joined)")


class OpenAIChatCompletionAssistantMessageParam(ApiModel):
    """An earlier reply of the assistant in a chat request."""
    role: Literal["assistant"] = Field(..., description="becomes a `Bot:` turn")
    content: Optional[MessageContent] = Field(None, description="the text, or a list of text parts (joined); null is empty")


class OpenAIResponseFormatText(ApiModel):
    """The only response format: plain text."""
    type: Literal["text"]


class _GenerationRequest(ApiModel):
    """What both generation requests take."""
    model: str = Field(..., description="a model of the models folder: its file name without .bullet")
    max_tokens: Optional[int] = Field(None, ge=1, description="the most tokens to generate (default 16 for a completion, "
                                                              "256 for a chat completion)")
    temperature: Optional[float] = Field(None, ge=0, le=2, description="0 is greedy (the same text every time); default 1")
    top_p: Optional[float] = Field(None, gt=0, le=1, description="nucleus sampling; default 1 (off)")
    top_k: Optional[int] = Field(None, ge=0, description="not OpenAI's: keep the k most likely tokens; default 0 (off)")
    repetition_penalty: Optional[float] = Field(None, gt=0, le=100, description="not OpenAI's: scales down tokens already "
                                                                                "in the context; default 1 (off)")
    seed: Optional[int] = Field(None, ge=-MAX_SEED, le=MAX_SEED, description="the same seed, prompt and settings give the same text")
    stop: Optional[Union[constr(min_length=1), conlist(constr(min_length=1), max_items=MAX_STOPS)]] = Field(
        None, description=f"up to {MAX_STOPS} strings; the text ends before the first one generated (which is not returned)")
    stream: Optional[bool] = Field(None, description="true: Server-Sent Events, one chunk per piece of text, then `data: [DONE]`")
    stream_options: Optional[OpenAIStreamOptions] = None
    n: Optional[Literal[1]] = Field(None, description="only 1")
    presence_penalty: Optional[Literal[0]] = Field(None, description="only 0: use repetition_penalty")
    frequency_penalty: Optional[Literal[0]] = Field(None, description="only 0: use repetition_penalty")
    logit_bias: Optional[Dict[str, float]] = Field(None, maxProperties=0, description="only empty")
    user: str = omissible("accepted and ignored")

    class Config:
        extra = "forbid"  # the service refuses any other parameter (400 "Unrecognized request argument")


class OpenAICompletionCreateParams(_GenerationRequest):
    """The body of POST /v1/completions."""
    prompt: Optional[Union[str, conlist(str, min_items=1, max_items=1)]] = Field(
        None, description="one prompt (a list of one string also works); absent or null is the empty prompt")
    logprobs: Optional[int] = Field(None, ge=0, le=MAX_TOP_LOGPROBS, description="the log probability of each token "
                                    "generated and of this many likeliest candidates")
    echo: Optional[Literal[False]] = Field(None, description="only false")
    best_of: Optional[Literal[1]] = Field(None, description="only 1")
    suffix: Literal[None] = omissible("only null")

    class Config:
        examples = [{"model": "tiny-shakespeare", "prompt": "ROMEO:", "max_tokens": 32, "temperature": 0.8, "stop": ["\n\n"]}]


class OpenAIChatCompletionCreateParams(_GenerationRequest):
    """The body of POST /v1/chat/completions."""
    messages: List[Union[OpenAIChatCompletionMessageParam, OpenAIChatCompletionAssistantMessageParam]] = Field(
        ..., min_items=1, description="at least one user or assistant message; the other fields of a message are ignored")
    max_completion_tokens: Optional[int] = Field(None, ge=1, description="the same as max_tokens (and taken over it)")
    logprobs: Optional[bool] = Field(None, description="true: the log probability of each token generated")
    top_logprobs: Optional[int] = Field(None, ge=0, le=MAX_TOP_LOGPROBS, description="with logprobs: this many likeliest "
                                        "candidates for each token")
    response_format: OpenAIResponseFormatText = omissible("only text")
    tools: List[Dict[str, Any]] = omissible("only empty: these models call no tools", maxItems=0)
    tool_choice: Literal["none", "auto"] = omissible("accepted and ignored (there are no tools)")
    parallel_tool_calls: bool = omissible("accepted and ignored (there are no tools)")

    class Config:
        examples = [{"model": "tiny-chat", "messages": [{"role": "system", "content": "You are brief."},
                                                        {"role": "user", "content": "Hello!"}], "max_tokens": 64}]


# ----- responses --------------------------------------------------------------------------------------------------

FINISH = "stop: a stop string or the end of the chat turn came; length: max_tokens was reached"
FinishReason = Literal["stop", "length"]


class OpenAIUsage(Reply):
    """Tokens read and written."""
    prompt_tokens: int = Field(..., description="the prompt's tokens (those dropped to fit the context included)")
    completion_tokens: int
    total_tokens: int


class _Generated(Reply):
    """The fields every completion and chunk starts with."""
    id: str = Field(..., description="cmpl-… or chatcmpl-…; the same in every chunk of a stream")
    created: int = Field(..., description="Unix time in seconds")
    model: str


class _Chunk(_Generated):
    """The fields every chunk of a stream has."""
    usage: OpenAIUsage = omissible("only in the usage chunk (stream_options.include_usage), which has no choices")

    class Config:
        every_field_present = False


class OpenAICompletionLogprobs(Reply):
    """Log probabilities of a completion's tokens, as parallel lists (natural log of the model's probabilities before
    temperature and cuts)."""
    tokens: List[str]
    token_logprobs: List[float]
    top_logprobs: List[Dict[str, float]] = Field(..., description="for each token, its likeliest candidates by text")
    text_offset: List[int] = Field(..., description="for each token, where its text starts in the completion")


class OpenAICompletionChoice(Reply):
    """The completion's text."""
    text: str
    index: int = Field(..., description="always 0 (one choice)")
    logprobs: Optional[OpenAICompletionLogprobs] = Field(..., description="null unless the request asked for logprobs")
    finish_reason: FinishReason = Field(..., description=FINISH)


class OpenAICompletion(_Generated):
    """The answer of POST /v1/completions."""
    object: Literal["text_completion"]
    choices: List[OpenAICompletionChoice] = Field(..., description="one choice")
    usage: OpenAIUsage

    class Config:
        examples = [{"id": "cmpl-8a0c4b7e1f2d4e6a9b3c5d7e9f1a2b3c", "object": "text_completion", "created": 1767225600,
                     "model": "tiny-shakespeare", "choices": [{"text": " What light", "index": 0, "logprobs": None,
                                                              "finish_reason": "length"}],
                     "usage": {"prompt_tokens": 6, "completion_tokens": 2, "total_tokens": 8}}]


class OpenAICompletionChunkChoice(Reply):
    """The next piece of a streamed completion's text."""
    text: str = Field(..., description="empty in the last chunk, which has the finish_reason")
    index: int = Field(..., description="always 0")
    logprobs: Optional[OpenAICompletionLogprobs] = Field(..., description="this piece's tokens, when the request asked for logprobs")
    finish_reason: Optional[FinishReason] = Field(..., description=f"null until the last chunk; {FINISH}")


class OpenAICompletionChunk(_Chunk):
    """One event of a streamed completion (OpenAI streams completions as Completion objects)."""
    object: Literal["text_completion"]
    choices: List[OpenAICompletionChunkChoice] = Field(..., description="one choice; none in the usage chunk")


class OpenAITopLogprob(Reply):
    """A likely candidate for a token."""
    token: str
    logprob: float
    bytes: List[int] = Field(..., description="the token's UTF-8 bytes")


class OpenAITokenLogprob(Reply):
    """A chat reply's token, its log probability and its likeliest candidates."""
    token: str
    logprob: float = Field(..., description="natural log of the model's probability, before temperature and cuts")
    bytes: List[int] = Field(..., description="the token's UTF-8 bytes")
    top_logprobs: List[OpenAITopLogprob]


class OpenAIChatCompletionLogprobs(Reply):
    """Log probabilities of a chat reply's tokens."""
    content: List[OpenAITokenLogprob]
    refusal: None = Field(..., description="always null: the model refuses nothing")


class OpenAIChatCompletionMessage(Reply):
    """The assistant's reply."""
    role: Literal["assistant"]
    content: str = Field(..., description="the text after the prompt's closing `Bot:`, up to the next turn")
    refusal: None = Field(..., description="always null: the model refuses nothing")


class OpenAIChatCompletionChoice(Reply):
    """The chat completion's reply."""
    index: int = Field(..., description="always 0 (one choice)")
    message: OpenAIChatCompletionMessage
    logprobs: Optional[OpenAIChatCompletionLogprobs] = Field(..., description="null unless the request asked for logprobs")
    finish_reason: FinishReason = Field(..., description=FINISH)


class OpenAIChatCompletion(_Generated):
    """The answer of POST /v1/chat/completions."""
    object: Literal["chat.completion"]
    choices: List[OpenAIChatCompletionChoice] = Field(..., description="one choice")
    usage: OpenAIUsage

    class Config:
        examples = [{"id": "chatcmpl-3f2e1d0c9b8a47f6a5e4d3c2b1a09f8e", "object": "chat.completion", "created": 1767225600,
                     "model": "tiny-chat", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there!", "refusal": None},
                                                       "logprobs": None, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}}]


class OpenAIChatCompletionChunkDelta(Reply):
    """What a chunk adds to the reply."""
    role: Literal["assistant"] = omissible("only in the first chunk")
    content: str = omissible("the next piece of text (empty in the first chunk; absent in the last)")

    class Config:
        every_field_present = False


class OpenAIChatCompletionChunkChoice(Reply):
    """The next piece of a streamed chat reply."""
    index: int = Field(..., description="always 0")
    delta: OpenAIChatCompletionChunkDelta
    logprobs: Optional[OpenAIChatCompletionLogprobs] = Field(..., description="this piece's tokens, when the request asked for logprobs")
    finish_reason: Optional[FinishReason] = Field(..., description=f"null until the last chunk; {FINISH}")


class OpenAIChatCompletionChunk(_Chunk):
    """One event of a streamed chat completion."""
    object: Literal["chat.completion.chunk"]
    choices: List[OpenAIChatCompletionChunkChoice] = Field(..., description="one choice; none in the usage chunk")


class OpenAIModel(Reply):
    """A model: a .bullet file of the models folder."""
    id: str = Field(..., description="the file name without .bullet")
    object: Literal["model"]
    created: int = Field(..., description="when the file was last written (Unix time in seconds)")
    owned_by: Literal["bullet"]

    class Config:
        examples = [{"id": "tiny-chat", "object": "model", "created": 1767225600, "owned_by": "bullet"}]


class OpenAIModelList(Reply):
    """The models of the models folder, sorted by name."""
    object: Literal["list"]
    data: List[OpenAIModel]


class OpenAIErrorObject(Reply):
    """What went wrong."""
    message: str = Field(..., description="for a person")
    type: str = Field(..., description="invalid_request_error (a 4xx), permission_error (a refused origin or host) or "
                                       "server_error (a 500)")
    param: Optional[str] = Field(..., description="the request parameter at fault, e.g. max_tokens or messages[0]")
    code: Optional[str] = Field(..., description="e.g. model_not_found, invalid_api_key, unknown_url, method_not_allowed")


class OpenAIErrorResponse(Reply):
    """Every refusal under /v1, in OpenAI's shape."""
    error: OpenAIErrorObject

    class Config:
        examples = [{"error": {"message": "The model `nope` does not exist or you do not have access to it.",
                               "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}]


# Models the /v1 routes name only in the document (their requests and streamed chunks: the routes read raw bytes).
DOCUMENTED: List[Type[BaseModel]] = [OpenAICompletionCreateParams, OpenAIChatCompletionCreateParams,
                                     OpenAICompletionChunk, OpenAIChatCompletionChunk]
