"""Heavy and optional libraries, imported where they are first used.

Every CLI command must start at once, so no goldsmith module imports scipy, scikit-learn,
openai, matplotlib, cleanlab, pandas, torch, ray and the like at its top. A module binds a
proxy instead, and keeps the real module for the type checker::

    from typing import TYPE_CHECKING

    from goldsmith._lazy import lazy_module

    if TYPE_CHECKING:
        import scipy.sparse as sp
    else:
        sp = lazy_module("scipy.sparse")

The first attribute access (``sp.csr_array``) imports ``scipy.sparse``; later ones read the
real module's attributes. An optional extra names its ``pip install`` line
(``lazy_module("ray", extra="ray")``) and a missing install then raises
:class:`~goldsmith.errors.MissingExtraError` at that first use, never at import.
:func:`optional` imports an optional package at once with the same error.

``tests/test_architecture.py`` knows these two functions by name: they are the only way a
module may import another one inside a function.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from goldsmith.errors import MissingExtraError

__all__ = ["lazy_module", "optional"]


def optional(name: str, extra: str, package: str | None = None) -> ModuleType:
    """Import the module ``name`` of an optional extra now.

    Parameters
    ----------
    name : str
        Dotted module name, e.g. ``"sentence_transformers"``.
    extra : str
        The goldsmith extra that installs it (``pip install 'goldsmith[extra]'``).
    package : str, optional
        The distribution to name in the error (default: the first part of ``name``).

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    MissingExtraError
        When the module (or one it needs) is not installed.
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingExtraError(extra, package or name.split(".")[0]) from None


_MODULE_DUNDERS = frozenset({"__all__", "__file__", "__path__", "__version__"})
"""Dunders that a real module has and a caller may mean: reading one imports the module."""


class _LazyModule(ModuleType):
    """A stand-in for a module that imports it on first attribute access."""

    def __init__(self, name: str, extra: str | None, package: str | None) -> None:
        super().__init__(name, f"{name}, imported on first use")
        self.__dict__["_lazy_extra"] = (extra, package)

    def _lazy_load(self) -> ModuleType:
        name = self.__name__
        extra, package = self.__dict__["_lazy_extra"]
        module = (
            optional(name, extra, package) if extra is not None else importlib.import_module(name)
        )
        # Later reads are plain dict lookups; names bound afterwards fall back to __getattr__.
        self.__dict__.update(module.__dict__)
        self.__dict__["_lazy_module"] = module
        return module

    def __getattr__(self, attr: str) -> Any:
        probe = attr.startswith("__") and attr.endswith("__") and attr not in _MODULE_DUNDERS
        if probe and "_lazy_module" not in self.__dict__:
            raise AttributeError(attr)  # inspect, doctest and copy probe dunders: never import
        module = self.__dict__.get("_lazy_module") or self._lazy_load()
        return getattr(module, attr)

    def __dir__(self) -> list[str]:
        module = self.__dict__.get("_lazy_module") or self._lazy_load()
        return dir(module)

    def __repr__(self) -> str:
        state = "loaded" if "_lazy_module" in self.__dict__ else "not imported yet"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_module(name: str, *, extra: str | None = None, package: str | None = None) -> Any:
    """A module proxy that imports ``name`` on its first attribute access.

    When ``name`` is already imported the real module is returned, so the proxy costs
    nothing in a process that has loaded the library anyway.

    Parameters
    ----------
    name : str
        Dotted module name, e.g. ``"sklearn.cluster"``.
    extra : str, optional
        For an optional dependency: the goldsmith extra that installs it; a missing install
        then raises :class:`~goldsmith.errors.MissingExtraError` at first use.
    package : str, optional
        The distribution to name in that error (default: the first part of ``name``).

    Returns
    -------
    ModuleType
        The module, or a proxy for it. Typed ``Any``: bind the real module under
        ``TYPE_CHECKING`` for the type checker (see the module docstring).
    """
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    return _LazyModule(name, extra, package)
