"""bullet_native: the Python face of libbullet_native (quantize, build, inspect, tokenize, train, generate, export GGUF,
convert documents to text).

The optional subpackage ``bullet_native.torch`` (imported on its own) is the same model in PyTorch; nothing here imports torch.
"""
from ._native import BulletError, Status, library_path, version
from .bq4 import dequantize_bq4, quantize_bq4
from .bullet_file import build_bullet, inspect, unpack_bullet
from .documents import convert_document
from .gguf import export_gguf
from .legacy import BulletBuilder
from .model import Model
from .report import Report
from .safetensors_file import read_safetensors
from .tokenizer import Tokenizer
from .isolated import IsolatedTrainingSession
from .session_states import FINISHED_STATES, SESSION_STATES
from .training import TrainingSession, presets as training_presets

__all__ = [
    "BulletError", "BulletBuilder", "build_bullet", "convert_document", "dequantize_bq4", "export_gguf", "FINISHED_STATES", "inspect",
    "IsolatedTrainingSession", "library_path", "Model", "quantize_bq4", "read_safetensors", "Report", "SESSION_STATES", "Status",
    "Tokenizer", "TrainingSession", "training_presets", "unpack_bullet", "version",
]
