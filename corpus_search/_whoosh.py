"""Import Whoosh without the parts of its start-up a search never uses.

whoosh-reloaded imports ``cached_property`` (which imports asyncio) and ``whoosh.compat``
imports ``urllib.request`` (http.client, email, ssl...) for a download helper. Together they
are half of Whoosh's import time (measured here: 86-90 ms -> 35-40 ms for whoosh.query, index
and searching), and a CLI search pays it on every run. While Whoosh is imported for the first
time, these two names are served by stand-ins: ``functools.cached_property`` (the same
behaviour for Whoosh's use, a per-instance cached attribute) an ``urlretrieve`` that
imports the real module when called, and the same for ``whoosh.lang.morph_en`` (English word
variations, a large regex compiled at import, used only by Variations queries). The stand-ins are removed from ``sys.modules`` right
after, so other code importing those modules gets the real ones.

Import this module before the first ``import whoosh...``; it does nothing if Whoosh is
already imported.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types


def _urlretrieve(*args, **kwargs):  # pragma: no cover - Whoosh never calls it here
    sys.modules.pop("urllib.request", None)
    return importlib.import_module("urllib.request").urlretrieve(*args, **kwargs)


def _variations(word):  # pragma: no cover - only Variations queries call it
    sys.modules.pop("whoosh.lang.morph_en", None)
    return importlib.import_module("whoosh.lang.morph_en").variations(word)


def _import_whoosh() -> None:
    if "whoosh" in sys.modules:
        return
    standins: dict[str, types.ModuleType] = {}
    if "cached_property" not in sys.modules:
        cp = types.ModuleType("cached_property")
        cp.cached_property = functools.cached_property  # type: ignore[attr-defined]
        standins["cached_property"] = cp
    if "whoosh.lang.morph_en" not in sys.modules:
        # English morphology for Variations queries (never used here): a 15 ms regex compile
        me = types.ModuleType("whoosh.lang.morph_en")
        me.variations = _variations  # type: ignore[attr-defined]
        standins["whoosh.lang.morph_en"] = me
    if "urllib.request" not in sys.modules:
        ur = types.ModuleType("urllib.request")
        ur.urlretrieve = _urlretrieve  # type: ignore[attr-defined]
        standins["urllib.request"] = ur
    sys.modules.update(standins)
    try:
        import whoosh.codec.whoosh3  # noqa: F401
        import whoosh.index  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for name, module in standins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_import_whoosh()
