"""bullet_native: the Python face of libbullet_native (quantize, build, inspect, tokenize, train, generate)."""
from ._native import BulletError, library_path, version

__all__ = ["BulletError", "library_path", "version"]
