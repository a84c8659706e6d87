"""Glued values inside translated sentences: {glue:text}`key` in a msgstr finds its page's data.

Why: Sphinx translates a paragraph by parsing its msgstr as a small document of its own
(``publish_msgstr`` in ``sphinx.util.i18n``), with the page's parser. For a MyST-NB page that
small document gets a notebook of its own, with no outputs, so every ``{glue:text}``,
``{glue:md}`` or ``{glue}`` role of a translated sentence failed ("No key ... found in glue data
for this document") and the Korean edition lost every glued number. MyST-NB writes each executed
page's glue data next to its executed notebook (``jupyter_execute/<page>.glue.json``) before the
translation runs; MyST-NB's lookup here falls back to that file when the document being parsed is
a msgstr of the page. The English edition never parses a msgstr and is not affected.
"""
from __future__ import annotations

import json
from pathlib import Path

_CACHE: dict[Path, tuple[float, dict]] = {}


def _page_glue(env) -> dict:
    """The glue data of the page being read, from MyST-NB's output folder (reloaded when it changes)."""
    path = Path(env.app.outdir).parent.joinpath("jupyter_execute", *(env.docname + ".glue.json").split("/"))
    if not path.is_file():
        return {}
    mtime = path.stat().st_mtime
    cached = _CACHE.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, json.loads(path.read_text(encoding="utf-8")))
        _CACHE[path] = cached
    return cached[1]


def _patch():
    from myst_nb.ext.glue import directives, roles, utils

    original = utils.retrieve_glue_data
    if getattr(original, "_normreg_translated", False):
        return

    def retrieve_glue_data(document, key):
        try:
            return original(document, key)
        except utils.RetrievalError:
            env = getattr(document.settings, "env", None)
            if env is None or not str(document.get("source", "")).endswith("<translated>"):
                raise
            glue_data = _page_glue(env)
            if key not in glue_data:
                raise
            return utils.VariableOutput(data=glue_data[key]["data"], metadata=glue_data[key].get("metadata", {}),
                                        nb_renderer=document.get("nb_renderer"), vtype="glue")

    retrieve_glue_data._normreg_translated = True
    utils.retrieve_glue_data = retrieve_glue_data
    roles.retrieve_glue_data = retrieve_glue_data  # the roles and directives imported it by name
    directives.retrieve_glue_data = retrieve_glue_data


def setup(app):
    _patch()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
