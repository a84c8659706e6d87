"""Glued values inside translated sentences: {glue:text}`key` in a msgstr finds its page's data.

Why: Sphinx translates a paragraph by parsing its msgstr as a small document of its own
(``sphinx.util.nodes``/``i18n``: ``publish_msgstr``), with the page's parser. For a MyST-NB page
that small document has its own, empty notebook, so every ``{glue:text}``, ``{glue:md}`` or
``{glue:figure}`` role of a translated sentence fails ("No key ... found in glue data for this
document") and the Korean edition would lose every glued number. Before Sphinx's Locale
transform runs, this records each page's notebook renderer (which holds the executed page's
glue data); MyST-NB's lookup then falls back to it when the document being parsed is a msgstr
of that page. The English edition never parses a msgstr and is not affected.
"""
from __future__ import annotations

from sphinx.transforms import SphinxTransform

_RENDERERS: dict[str, object] = {}  # docname -> the page's NbElementRenderer (MyST-NB)


class RememberGlueData(SphinxTransform):
    default_priority = 19  # sphinx.transforms.i18n.Locale is 20

    def apply(self, **kwargs):
        if "nb_renderer" in self.document:
            _RENDERERS[self.env.docname] = self.document["nb_renderer"]


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
            renderer = _RENDERERS.get(getattr(env, "docname", None))
            if renderer is None or not str(document.get("source", "")).endswith("<translated>"):
                raise
            glue_data = renderer.renderer.nb_client.glue_data
            if key not in glue_data:
                raise
            return utils.VariableOutput(data=glue_data[key]["data"], metadata=glue_data[key].get("metadata", {}),
                                        nb_renderer=renderer, vtype="glue")

    retrieve_glue_data._normreg_translated = True
    utils.retrieve_glue_data = retrieve_glue_data
    roles.retrieve_glue_data = retrieve_glue_data  # the roles and directives imported it by name
    directives.retrieve_glue_data = retrieve_glue_data


def setup(app):
    _patch()
    app.add_transform(RememberGlueData)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
