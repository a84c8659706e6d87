"""Search for the Korean edition: a Korean word is found with its particle or ending attached.

Why: Sphinx has no Korean search language. Its fallback (English) splits text at spaces and
punctuation, and in Korean a particle or ending is written onto its word: "배치 정규화는" is
indexed as "정규화는", and "드롭아웃을" as "드롭아웃을", so a search for 정규화 or 드롭아웃
misses the very pages about them. This registers a search language for ``ko`` whose stemmer,
in Python (the index) and in JavaScript (the query) alike, strips one trailing particle or
ending (은/는/이/가/을/를/의/에/에서/으로/로/와/과/도/만/에게/까지/부터/이다/입니다, and the
하다/되다 endings of verbs made from nouns: 정규화하는, 정규화된) from a word of Hangul, keeping
at least one syllable (two before an ambiguous one-syllable particle such as 이, 가, 도, 의, so
that 차이 stays 차이). Latin words in the Korean pages (the English terms in parentheses, code
names) are stemmed as the English edition stems them (Porter). Both sides use the same table,
so a word and its query meet at the same stem.
"""
from __future__ import annotations

import json
import re

from sphinx.search import SearchLanguage
from sphinx.search.en import SearchEnglish, english_stopwords, js_porter_stemmer

# Longest first. (ending, syllables the stem must keep)
ENDINGS = [
    # verbs and adjectives made from a noun: X하다, X되다, and the copula
    ("하였습니다", 1), ("되었습니다", 1), ("했습니다", 1), ("됐습니다", 1), ("합니다", 1), ("됩니다", 1),
    ("입니다", 1), ("이었다", 1), ("였다", 2), ("하였다", 1), ("되었다", 1), ("했다", 1), ("됐다", 1),
    ("한다", 1), ("된다", 1), ("하는", 1), ("되는", 1), ("하면", 1), ("되면", 1), ("하고", 1), ("되고", 1),
    ("하여", 1), ("되어", 1), ("해서", 1), ("돼서", 1), ("하지", 1), ("되지", 1), ("하기", 1), ("되기", 1),
    ("하며", 1), ("되며", 1), ("이며", 1), ("이고", 1), ("이다", 1), ("이면", 1), ("이라는", 1), ("라는", 2),
    ("이란", 1), ("란", 2), ("한", 2), ("된", 2), ("할", 2), ("될", 2), ("함", 2), ("됨", 2),
    # particles, with the combinations that occur in running prose
    ("에서는", 1), ("에서도", 1), ("에서의", 1), ("에서", 1), ("으로는", 1), ("으로도", 1), ("으로의", 1),
    ("으로써", 1), ("으로서", 1), ("으로", 1), ("로는", 2), ("로도", 2), ("로의", 2), ("로써", 2), ("로서", 2),
    ("에게는", 1), ("에게서", 1), ("에게", 1), ("까지는", 1), ("까지도", 1), ("까지", 1), ("부터는", 1), ("부터", 1),
    ("처럼", 1), ("보다는", 1), ("보다", 1), ("마다", 1), ("에는", 1), ("에도", 1), ("에의", 1), ("와는", 1),
    ("과는", 1), ("와의", 1), ("과의", 1), ("이나", 1), ("만으로", 1), ("만을", 1), ("만이", 1), ("만", 2),
    ("은", 1), ("는", 1), ("을", 1), ("를", 1), ("이", 2), ("가", 2), ("의", 2), ("에", 1), ("로", 2),
    ("와", 2), ("과", 2), ("도", 2), ("나", 2),
]
ENDINGS.sort(key=lambda pair: -len(pair[0]))
HANGUL = re.compile(r"^[\uac00-\ud7a3]+$")


def strip_ending(word: str) -> str:
    """The word without one trailing particle or ending, if what is left is a long enough Hangul stem."""
    if not HANGUL.match(word):
        return word
    for ending, keep in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= keep:
            return word[: -len(ending)]
    return word


JS_STEMMER = js_porter_stemmer.replace("var Stemmer = function", "var PorterStemmer = function") + """
/** Korean: strip one particle or ending from a Hangul word (the table of _ext/korean_search.py). */
var KOREAN_ENDINGS = %s;
var Stemmer = function() {
  var porter = new PorterStemmer();
  this.stemWord = function(w) {
    if (!/^[\\uac00-\\ud7a3]+$/.test(w)) return porter.stemWord(w);
    for (var i = 0; i < KOREAN_ENDINGS.length; i++) {
      var ending = KOREAN_ENDINGS[i][0], keep = KOREAN_ENDINGS[i][1];
      if (w.length - ending.length >= keep && w.slice(-ending.length) === ending)
        return w.slice(0, w.length - ending.length);
    }
    return w;
  };
};
""" % json.dumps(ENDINGS, ensure_ascii=False)


class SearchKorean(SearchLanguage):
    lang = "ko"
    language_name = "Korean"
    js_stemmer_code = JS_STEMMER
    stopwords = english_stopwords

    def init(self, options):
        self.english = SearchEnglish(options)

    def stem(self, word: str) -> str:
        word = word.lower()
        return strip_ending(word) if HANGUL.match(word) else self.english.stem(word)

    def word_filter(self, word: str) -> bool:
        # a one-syllable Hangul stem (값, 층) is a word; the default filter drops words shorter than 3 letters
        return bool(HANGUL.match(word)) or super().word_filter(word)


def setup(app):
    app.add_search_language(SearchKorean)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
