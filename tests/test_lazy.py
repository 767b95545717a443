"""``goldsmith._lazy``: a module proxy imports on first use, and a missing extra says what to
install. Each check runs in a fresh interpreter so that ``sys.modules`` starts clean."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from goldsmith._lazy import lazy_module, optional
from goldsmith.errors import MissingExtraError


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_proxy_imports_on_first_attribute_access() -> None:
    out = _run(
        """
        import sys
        from goldsmith._lazy import lazy_module
        colorsys = lazy_module("colorsys")
        before = "colorsys" in sys.modules
        hsv = colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
        same = colorsys.hsv_to_rgb is sys.modules["colorsys"].hsv_to_rgb
        print(before, "colorsys" in sys.modules, hsv, same)
        """
    )
    assert out == "False True (0.0, 1.0, 1.0) True"


def test_probing_dunders_does_not_import() -> None:
    out = _run(
        """
        import copy, sys
        from goldsmith._lazy import lazy_module
        m = lazy_module("colorsys")
        print(hasattr(m, "__wrapped__"), repr(m), "colorsys" in sys.modules)
        print(m.__file__ == sys.modules["colorsys"].__file__, repr(m))
        """
    )
    assert out.splitlines() == [
        "False <lazy module 'colorsys' (not imported yet)> False",
        "True <lazy module 'colorsys' (loaded)>",  # a real module's dunder imports it
    ]


def test_a_loaded_module_is_returned_as_is() -> None:
    assert lazy_module("sys") is sys


def test_a_missing_extra_names_its_pip_line_at_first_use() -> None:
    proxy = lazy_module("goldsmith_no_such_module", extra="ray", package="ray[data]")
    with pytest.raises(MissingExtraError, match=r"pip install 'goldsmith\[ray\]'") as info:
        proxy.anything  # noqa: B018  (the access is the test)
    assert info.value.package == "ray[data]"


def test_optional_imports_now_or_names_the_extra() -> None:
    assert optional("json", "train") is sys.modules["json"]
    with pytest.raises(MissingExtraError, match=r"'goldsmith_no_such_module'.*goldsmith\[embed\]"):
        optional("goldsmith_no_such_module.sub", "embed", "goldsmith_no_such_module")


def test_a_missing_core_module_is_an_import_error_at_first_use() -> None:
    proxy = lazy_module("goldsmith_no_such_module")
    with pytest.raises(ImportError):
        proxy.anything  # noqa: B018
