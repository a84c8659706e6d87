"""Each inline <script> once per page (a backport of Sphinx PR #13402, fixed in Sphinx 8.2).

Sphinx 7.4 keeps an inline script (``app.add_js_file(None, body=...)``) that an extension adds
after the HTML builder starts under the filename ``None``, then re-adds every registered script
under ``''`` before writing; ``None != ''``, so the script appears twice in every page.
sphinx-thebe's ``const THEBE_JS_URL = ...`` declared twice is a SyntaxError in every page's
console (sphinx-togglebutton's ``var togglebuttonSelector`` is doubled too, silently). As the
upstream fix does, the builder is given ``''`` for ``None`` from the start.
"""
from __future__ import annotations


def _inline_scripts_as_empty_filename(app):
    builder = app.builder
    add_js_file = getattr(builder, "add_js_file", None)
    if add_js_file is None:  # not an HTML builder
        return

    def add_js_file_once(filename, **kwargs):
        return add_js_file(filename or "", **kwargs)

    builder.add_js_file = add_js_file_once


def setup(app):
    # Before any other builder-inited handler (sphinx-togglebutton adds its script there).
    app.connect("builder-inited", _inline_scripts_as_empty_filename, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
