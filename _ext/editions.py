"""The Korean edition, built from the same sources beside the English one, and the language switch.

Why an extension: the README's one build command, ``jupyter-book build . -W -n --keep-going``,
must build both editions, and Jupyter Book 1 has no option for a second language. When the
English HTML build starts, this extension starts the Korean edition's build in a second process,
beside it (each build executes one page at a time, so on two cores both take about the time of
one); the English build fails if the Korean one does, and the Korean lines of the log start
with ``[ko]``. The Korean build is the one ``jupyter-book build`` runs (the same ``_config.yml``
and ``_toc.yml``; warnings as errors and nitpicky if the English build is), with
``language = "ko"`` and the catalogs under ``locale/ko/LC_MESSAGES/`` (Sphinx's gettext
machinery), and with ``NORMREG_LANG=ko`` in the environment of its kernels, so that the same code
draws Korean words in the figures and glues Korean words (``normreg.i18n``). It has its own build
folder, ``_build/ko/`` (doctrees, jupyter-cache, executed notebooks: a page executed in Korean is
never served from the English cache), and its HTML is copied to ``_build/html/ko/``, so that the
site is one folder: English at ``/``, Korean at ``/ko/``. ``NORMREG_EDITIONS=en`` leaves it out
(quick English-only experiments).

The language switch: every page of either edition gets a link to the same page in the other
one (``p.html`` <-> ``ko/p.html``), in the article's header bar (``language-switch.html`` in
``article_header_end``), which sphinx-book-theme shows at every width, phone included.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
EDITIONS = {"en": "English", "ko": "한국어"}  # language code -> its name in itself
SUBDIR = {"en": "", "ko": "ko/"}               # where an edition lives in the site
TEMPLATES = str(Path(__file__).resolve().parent / "templates")
# Words on every page that no catalog holds (settings of _config.yml and of Jupyter Book), per edition;
# the book's title comes from the catalogs (the root page's heading)
SETTINGS = {"ko": {"author": "normreg 과정 기여자 일동",
                   "html_theme_options": {"search_bar_text": "이 책에서 검색..."}}}


def translated_title(srcdir: Path, language: str, title: str) -> str:
    """The book's title in ``language``: the msgstr of the same words in any page's catalog (the root
    page's heading is the title), if one is translated and not fuzzy; else the title itself."""
    from babel.messages.pofile import read_po

    for path in sorted((srcdir / "locale" / language / "LC_MESSAGES").rglob("*.po")):
        with open(path, "rb") as f:
            message = read_po(f).get(title)
        if message is not None and message.string and not message.fuzzy:
            return message.string
    return title


def _config_inited(app, config):
    if TEMPLATES not in config.templates_path:
        config.templates_path.append(TEMPLATES)


def _page_context(app, pagename, templatename, context, doctree):
    """``other_editions``: [(code, name, href)] for the switch; href relative to this page."""
    here = app.config.language or "en"
    depth = pagename.count("/") + SUBDIR.get(here, "").count("/")
    root = "../" * depth  # from this page to the site root (the English edition's root)
    context["normreg_language"] = here
    context["other_editions"] = [(code, name, f"{root}{SUBDIR[code]}{pagename}.html")
                                 for code, name in EDITIONS.items() if code != here]


def _wanted(app) -> bool:
    if app.builder.name != "html" or (app.config.language or "en") != "en":
        return False
    wanted = os.environ.get("NORMREG_EDITIONS", "en ko").replace(",", " ").split()
    if "ko" not in wanted:
        LOGGER.info("NORMREG_EDITIONS=%s: the Korean edition is not built", " ".join(wanted))
    return "ko" in wanted


def _start_korean(app):
    """Start the Korean build beside the English one: pages execute one at a time in each build, so
    on a machine with two cores or more the second edition adds little wall time."""
    if not _wanted(app):
        return
    build_root = Path(app.outdir).parent / "ko"
    # With --keep-going, Sphinx keeps -W in a private flag and sets app.warningiserror to False
    warnings_are_errors = bool(app.warningiserror or app.keep_going or getattr(app, "_fail_on_warnings", False))
    command = [sys.executable, "-u", __file__, "ko", str(app.srcdir), str(build_root),
               app.config.external_toc_path, str(int(warnings_are_errors)),
               str(int(bool(app.keep_going))), str(int(bool(app.config.nitpicky)))]
    LOGGER.info("building the Korean edition into %s (NORMREG_LANG=ko); its lines start with [ko]",
                build_root / "html")
    process = subprocess.Popen(command, env={**os.environ, "NORMREG_LANG": "ko"}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace")

    def relay():
        for line in process.stdout:
            sys.stdout.write(f"[ko] {line}")
            sys.stdout.flush()

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    app._normreg_korean = (process, thread, build_root)


def _finish_korean(app, exception):
    started = getattr(app, "_normreg_korean", None)
    if started is None:
        return
    process, thread, build_root = started
    if exception is not None:
        process.terminate()
        process.wait()
        return
    returncode = process.wait()
    thread.join()
    if returncode != 0:
        raise ExtensionError(f"the Korean edition did not build cleanly (exit status {returncode}; "
                             "its warnings and errors are the lines above that start with [ko])")
    target = Path(app.outdir) / "ko"
    changed = _mirror(build_root / "html", target)
    LOGGER.info("the Korean edition is in %s (%d files updated)", target, changed)


def _mirror(source: Path, target: Path) -> int:
    """Make ``target`` a copy of ``source``, file by file: only changed files are written (each replaced at
    once), files gone from ``source`` are removed; a reader of ``target`` (the browser test, while another
    test session's build finds nothing to do) never meets a missing file. Returns the files written."""
    import filecmp

    written, wanted = 0, set()
    for path in source.rglob("*"):
        if path.is_dir():
            continue
        relative = path.relative_to(source)
        wanted.add(relative)
        destination = target / relative
        if destination.is_file() and filecmp.cmp(path, destination, shallow=False):
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(f".{destination.name}.tmp")
        shutil.copyfile(path, temporary)
        os.replace(temporary, destination)
        written += 1
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(target) not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written


class NumberedHeadings(SphinxTransform):
    """A translated heading keeps its number: "1. Data normalization" -> "1. 데이터 정규화".

    Sphinx parses a msgstr with the page's parser, and MyST reads "1. 데이터 정규화" as a numbered
    list, so the heading would stay English. The translator need not know: where the msgid starts
    with a number and a full stop (only a heading or a caption can, in MyST), the msgstr's full stop is
    escaped (1\\.) before Sphinx's Locale transform reads it.
    """

    default_priority = 19  # sphinx.transforms.i18n.Locale is 20 and gets the same catalog object

    def apply(self, **kwargs):
        language = self.config.language
        if not language or language == "en" or not self.config.locale_dirs:
            return
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        dirs = [os.path.join(self.env.srcdir, directory) for directory in self.config.locale_dirs]
        catalog, has_catalog = init_locale(dirs, language, docname_to_domain(self.env.docname,
                                                                            self.config.gettext_compact))
        # Sphinx 7.4's Locale reads the catalogs' dictionaries (the translator and its fallbacks) directly
        while catalog is not None:
            messages = getattr(catalog, "_catalog", None)
            if messages and not getattr(catalog, "_normreg_numbered_headings", False):
                for msgid, msgstr in messages.items():
                    if isinstance(msgid, str) and isinstance(msgstr, str) and NUMBERED.match(msgid) \
                            and NUMBERED.match(msgstr):
                        messages[msgid] = NUMBERED.sub(r"\1\\. ", msgstr, count=1)
                catalog._normreg_numbered_headings = True
            catalog = getattr(catalog, "_fallback", None)


NUMBERED = re.compile(r"^(\d+)\.\s")


def setup(app):
    app.add_transform(NumberedHeadings)
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    app.connect("builder-inited", _start_korean)
    app.connect("build-finished", _finish_korean)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _build(srcdir, outdir, builder, language, toc, *, doctreedir, cache, warningiserror=False, keep_going=False,
           nitpicky=False, freshenv=False):
    """One Sphinx build of the book as ``jupyter-book build`` runs it (same _config.yml and _toc.yml)."""
    from jupyter_book.sphinx import build_sphinx

    overrides = {"external_toc_path": str(toc), "latex_individualpages": False, "language": language,
                 "nb_execution_cache_path": str(cache)}
    if nitpicky:
        overrides["nitpicky"] = True
    if language != "en":
        import yaml

        title = yaml.safe_load((Path(srcdir) / "_config.yml").read_text()).get("title", "")
        overrides["html_title"] = translated_title(Path(srcdir), language, title)
        overrides.update(SETTINGS.get(language, {}))
    return build_sphinx(str(srcdir), str(outdir), noconfig=True, path_config=str(Path(srcdir) / "_config.yml"),
                        confoverrides=overrides, doctreedir=str(doctreedir), builder=builder,
                        warningiserror=warningiserror, keep_going=keep_going, freshenv=freshenv)


def _fill(paths: list[str]) -> int:
    """``editions.py fill NEW.po ...``: every empty or fuzzy msgstr of the catalogs under locale/ko/LC_MESSAGES/
    whose msgid one of the given files translates takes that translation (written as sphinx-intl writes)."""
    from babel.messages.pofile import read_po, write_po

    given = {}
    for path in paths:
        with open(path, "rb") as f:
            given.update({m.id: m for m in read_po(f) if m.id and m.string and not m.fuzzy})
    filled = 0
    for path in sorted((Path(__file__).resolve().parent.parent / "locale" / "ko" / "LC_MESSAGES").rglob("*.po")):
        with open(path, "rb") as f:
            catalog = read_po(f)
        changed = 0
        for message in catalog:
            if message.id in given and (not message.string or message.fuzzy):
                message.string = given[message.id].string
                message.flags.discard("fuzzy")
                message.user_comments = list(given[message.id].user_comments)
                changed += 1
        if changed:
            with open(path, "wb") as f:
                write_po(f, catalog, width=76)
            print(f"{path}: {changed} entries filled")
            filled += changed
    print(f"{filled} of {len(given)} given translations used")
    return 0


def _main(argv: list[str]) -> int:
    """``editions.py gettext [OUTDIR]``: the message templates of every page, from the English sources, into
    _build/gettext/ (pages executed as for the English edition, from its cache: figures' alt text is
    on their output images); then ``sphinx-intl update -p _build/gettext -l ko -d locale``.
    ``editions.py fill NEW.po ...``: translations kept apart (locale/ko/new-entries-*.po) put into the catalogs.
    ``editions.py ko SRCDIR BUILD_ROOT TOC W KEEP_GOING NITPICKY``: the Korean edition (called by the build)."""
    if argv[:1] == ["fill"]:
        return _fill(argv[1:])
    if argv[:1] == ["gettext"]:
        repo = Path(__file__).resolve().parent.parent
        build = repo / "_build"
        out = Path(argv[1]).resolve() if len(argv) > 1 else build / "gettext"
        result = _build(repo, out, "gettext", "en", repo / "_toc.yml", doctreedir=out.parent / f".doctrees-{out.name}",
                        cache=build / ".jupyter_cache", freshenv=True)  # every page read: seconds, from the cache
        return 0 if result == 0 else 1
    _, srcdir, build_root, toc, warningiserror, keep_going, nitpicky = argv
    root_path = Path(build_root)
    # jupyter-cache knows a page by its code only: a figure word changed in the code's catalog would
    # be served from the cache in its old wording. A changed catalog empties the Korean cache.
    words = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(
        (Path(srcdir) / "normreg" / "locale" / "ko" / "LC_MESSAGES").glob("normreg.po")))).hexdigest()
    stamp = root_path / ".jupyter_cache-words.sha256"
    fresh = not stamp.is_file() or stamp.read_text() != words
    if fresh and (root_path / ".jupyter_cache").exists():
        print("[the catalogs of normreg/locale/ko changed: every page is executed again in Korean]")
        shutil.rmtree(root_path / ".jupyter_cache")
    result = _build(srcdir, root_path / "html", "html", "ko", toc, doctreedir=root_path / ".doctrees",
                    cache=root_path / ".jupyter_cache", warningiserror=warningiserror == "1",
                    keep_going=keep_going == "1", nitpicky=nitpicky == "1", freshenv=fresh)
    if result == 0:
        stamp.write_text(words)
        # As jupyter-book does for the English edition: index.html sends the reader to the root page.
        from jupyter_book.sphinx import REDIRECT_TEXT
        from sphinx_external_toc.parsing import parse_toc_yaml

        root = parse_toc_yaml(toc).root.docname
        (root_path / "html" / "index.html").write_text(REDIRECT_TEXT.format(first_page=f"{root}.html"))
    return 0 if result == 0 else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
