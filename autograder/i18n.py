"""The checks' words in the notebook's language (domain ``autograder`` of ``normreg.i18n``).

Every message a check, a hint or a feedback page shows is written in English in the code, as
``_("... {name} ...").format(name=...)``; its Korean text is in
``normreg/locale/ko/LC_MESSAGES/autograder.po`` (``python -m autograder.catalogs`` keeps the catalog
in step with the code). Named placeholders only, so a translation may put them in another order.

Where ``normreg`` exists (a learner's Jupyter, plain nbgrader, the class grader's own process) this
is ``normreg.i18n``. The class grader's sandbox holds no ``normreg`` (it holds references); there the
job is told its language and given the catalog's entries as data (``install``, called by
``grader.runner.prepare`` before any learner code runs), so the probes' messages (``call_learner``:
"not implemented yet", "raised ...") come in the notebook's language too. Which language a notebook
is graded in is decided outside the sandbox, from the notebook's metadata (``notebook_language``);
no language ever changes a score, only the words.
"""
from __future__ import annotations

try:
    from normreg import i18n as _core
except ImportError:  # the class grader's sandbox
    _core = None

DOMAIN = "autograder"
LANGUAGES = ("en", "ko")
_sandbox: dict = {"lang": "en", "messages": {}}


def _normalize(lang) -> str | None:
    if _core is not None:
        return _core.normalize(lang)
    if not isinstance(lang, str):
        return None
    base = lang.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


def set_language(lang: str | None) -> str:
    """Use ``lang`` from now on in this process (``normreg.i18n.set_language``)."""
    if _core is not None:
        return _core.set_language(lang)
    code = _normalize(lang) if lang is not None else "en"
    if code is None:
        raise ValueError(f"unknown language {lang!r}: the course speaks {', '.join(LANGUAGES)}")
    _sandbox["lang"] = code
    return code


def language() -> str:
    return _core.language() if _core is not None else _sandbox["lang"]


def _(message: str) -> str:
    """``message`` in the language in use; the English text where the catalog has no finished entry."""
    if _core is not None:
        return _core.gettext(DOMAIN, message)
    if _sandbox["lang"] == "en":
        return message
    return _sandbox["messages"].get(message, message)


def messages(lang: str, domain: str = DOMAIN) -> dict[str, str]:
    """The finished entries of one catalog (English -> ``lang``), to send into a sandbox as data."""
    if _core is None or _normalize(lang) in (None, "en"):
        return {}
    return dict(_core.catalog(domain, _normalize(lang)))


def install(lang, entries) -> None:
    """In the sandbox: the job's language and its catalog entries (plain strings only; anything else is ignored)."""
    code = _normalize(lang) or "en"
    _sandbox["lang"] = code
    _sandbox["messages"] = ({k: v for k, v in entries.items() if type(k) is str and type(v) is str}
                            if type(entries) is dict else {})
    if _core is not None:
        _core.set_language(code)


def notebook_language(nb) -> str:
    """The language a notebook declares in its metadata (``metadata.normreg.language``): 'en' or 'ko'; anything
    else, missing or malformed, is English. The only place the graders take a notebook's language from."""
    try:
        meta = nb.get("metadata", {}).get("normreg", {})
        lang = meta.get("language") if isinstance(meta, dict) else None
    except AttributeError:
        return "en"
    return lang if isinstance(lang, str) and lang in LANGUAGES else "en"
