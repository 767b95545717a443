"""Read labeling functions from a user's Python file (``lfs.py``)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from goldsmith.errors import ConfigError, RegistryError
from goldsmith.weak.lf import LF, collect_lfs


def load_lf_file(path: str | Path) -> list[LF]:
    """Import ``path`` and return the LFs it defines, in definition order.

    The module is registered under a name derived from its path, so process-pool workers
    (forked) and pickling find it.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"no labeling-function file at {path}")
    name = "goldsmith_lfs_" + hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise ConfigError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from exc
    lfs = collect_lfs(module)
    if not lfs:
        raise RegistryError(
            f"{path} defines no labeling functions; build them with @labeling_function(), "
            "keyword_lf(...) or regex_lf(...) at module level"
        )
    return lfs
