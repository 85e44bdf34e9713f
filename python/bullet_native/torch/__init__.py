"""bullet_native.torch: the .bullet model in PyTorch, and the bridge between it and our files (optional; needs torch).

    from bullet_native.torch import BulletTransformer, from_config, to_bullet, from_bullet

PyTorch and the native trainer (TrainingSession, which runs its own libtorch) cannot share one process: both crash.
So this package refuses to import where a TrainingSession has already loaded that libtorch, and a TrainingSession
refuses to start where torch is imported. Loading, building and running .bullet files work beside torch.
"""
from .. import _native

if _native._lib is not None:  # the library is loaded lazily: if it is not loaded, neither is its libtorch
    from ..training import libtorch_loaded

    if libtorch_loaded():
        raise ImportError("bullet_native.torch cannot be used in this process: a TrainingSession has loaded the trainer's "
                          "libtorch here, and PyTorch's libtorch crashes beside it. Use PyTorch in another process "
                          "(e.g. a script started with subprocess, or a fresh kernel).")

from .convert import export, from_bullet, from_checkpoint, from_folder, perplexity, to_bullet, to_gguf  # noqa: E402
from .model import BulletConfig, BulletTransformer, from_config, tensor_names  # noqa: E402

__all__ = ["BulletConfig", "BulletTransformer", "export", "from_bullet", "from_checkpoint", "from_config", "from_folder",
           "perplexity", "tensor_names", "to_bullet", "to_gguf"]
