from .atomic_io import atomic_write_bytes, atomic_write_png, atomic_write_text
from .file_hash import file_sha256

__all__ = ['atomic_write_bytes', 'atomic_write_png', 'atomic_write_text', 'file_sha256']
