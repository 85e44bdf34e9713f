"""How the machine is shared between training workers: threads per running session, and the memory a new session may
use. Pure functions over what the supervisor knows, so the rules can be read and tested on their own."""
from __future__ import annotations

from dataclasses import dataclass

from ..settings import describe_bytes


def thread_plan(running: dict[str, int | None], cores: int) -> dict[str, int]:
    """Threads for each running session: what its config pins, else max(1, cores // number running)."""
    share = max(1, cores // max(1, len(running)))
    return {sid: pinned if pinned is not None else share for sid, pinned in running.items()}


@dataclass(frozen=True)
class LiveWorker:
    """A worker's memory as the budget sees it: what was estimated for it, and what it holds now."""

    estimate: int
    rss: int


def available_memory() -> int:
    """MemAvailable from /proc/meminfo in bytes (what can be used without swapping); 0 when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def memory_budget(live: list[LiveWorker], override: int | None = None, available: int | None = None) -> int:
    """Bytes a new session may use. With ``override`` (--memory-budget): that, minus every live worker's estimate.
    Otherwise: the machine's available memory minus what live workers will still grow into (their estimate beyond what
    they hold now; what they hold is already missing from the available memory)."""
    if override is not None:
        return override - sum(w.estimate for w in live)
    free = available_memory() if available is None else available
    return free - sum(max(0, w.estimate - w.rss) for w in live)


def over_budget_message(estimate: int, budget: int, summary: str) -> str:
    """The 422 a session too big for the machine gets: the estimate and the budget, with what to change."""
    return (f"this config needs {summary}, estimated at {describe_bytes(estimate)} of memory, but the budget for a new "
            f"session is {describe_bytes(max(0, budget))} (what the machine has available minus what running sessions "
            "hold and will still use; --memory-budget sets it): use a smaller model, batch or context, or stop a session")


def worker_memory_limit(estimate: int, override: int | None = None) -> int:
    """The hard limit a worker runs under: 1.5 x its estimate plus 256 MB of headroom, or --worker-memory-limit."""
    return override if override is not None else int(estimate * 1.5) + 256 * 1024 * 1024
