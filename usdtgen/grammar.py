"""Load usdtgen's lark grammars once per process, with the compiled parser cached on disk.

The cache lives in the user's own cache directory (``$XDG_CACHE_HOME/usdtgen``, mode 0700),
never in a shared temporary directory, since lark's cache is a pickle.
"""
from __future__ import annotations

import os
from functools import lru_cache

from lark import Lark

from usdtgen import __version__


def _cache_file(name: str) -> str | bool:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "usdtgen")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if os.stat(folder).st_uid != os.getuid():
            return False
    except OSError:
        return False
    return os.path.join(folder, f"{name}-{__version__}.lark-cache")


@lru_cache(maxsize=None)
def load_grammar(package: str, filename: str, positions: bool = False,
                 postlex=None) -> Lark:
    """The LALR parser of ``filename`` in ``package`` (a .lark file shipped with usdtgen);
    with ``positions``, every tree node knows its line and column (``meta``); ``postlex``
    sees the tokens between the lexer and the parser."""
    return Lark.open_from_package(package, filename, parser="lalr", maybe_placeholders=True,
                                  propagate_positions=positions, postlex=postlex,
                                  cache=_cache_file(filename + ("-pos" if positions else "")))
