"""The course's languages: which one is in use, and the Korean text of every English message.

One source for the words Python code shows a person: figure labels in the book, check
messages and hints, feedback pages, the class report. The English text stays in the code,
as the key; its Korean text is in a gettext catalog, ``normreg/locale/ko/LC_MESSAGES/DOMAIN.po``
(one domain per package that speaks: ``normreg`` for the book's figures, ``autograder`` for
checks, ``grader`` for the class command's pages). The catalogs are read as ``.po`` with Babel
(installed with Sphinx), so there is no compiled ``.mo`` to keep in step.

Which language: ``set_language("ko")`` (a Korean exercise notebook's first cell calls it; the
class grader passes a notebook's language to its checks), else the environment variable
``NORMREG_LANG`` (the Korean edition of the book is executed with ``NORMREG_LANG=ko``), else
English. An entry that is missing or fuzzy falls back to the English text; the tests fail on
any such entry (``tests/test_translations.py``), so a reader never meets a half-translated page.

Usage::

    from normreg.i18n import translator
    _ = translator("normreg")
    ax.set_xlabel(_("training step"))
    _("got {got}, expected {expected}").format(got=..., expected=...)   # placeholders stay named
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable

LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT = "en"
LOCALE = Path(__file__).resolve().parent / "locale"
ENV = "NORMREG_LANG"

_chosen: str | None = None


def normalize(lang: str | None) -> str | None:
    """'ko', 'ko_KR', 'ko-KR.UTF-8' -> 'ko'; anything not a course language -> None."""
    if not isinstance(lang, str):
        return None
    base = lang.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


def set_language(lang: str | None) -> str:
    """Use ``lang`` from now on in this process (None: back to ``NORMREG_LANG`` or English)."""
    global _chosen
    if lang is None:
        _chosen = None
        return language()
    code = normalize(lang)
    if code is None:
        raise ValueError(f"unknown language {lang!r}: the course speaks {', '.join(LANGUAGES)}")
    _chosen = code
    return code


def language() -> str:
    """The language in use: ``set_language``'s, else ``NORMREG_LANG``'s, else English."""
    return _chosen or normalize(os.environ.get(ENV)) or DEFAULT


@functools.lru_cache(maxsize=None)
def catalog(domain: str, lang: str) -> dict[str, str]:
    """English text -> translated text, for the finished (non-fuzzy, non-empty) entries of one catalog."""
    path = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == DEFAULT or not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        cat = read_po(f, locale=lang)
    return {m.id: m.string for m in cat if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def gettext(domain: str, message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` (default: the language in use); the English text where no translation exists."""
    return catalog(domain, lang or language()).get(message, message)


def translator(domain: str) -> Callable[[str], str]:
    """``_`` for one domain: looks the language up at each call, so ``set_language`` takes effect at once."""
    def _(message: str) -> str:
        return gettext(domain, message)
    _.__doc__ = f"The text of ``message`` in the current language (domain {domain!r})."
    return _
