"""Which words of an exercise's code cells are translated (``autograder.notebooks.code_units``), and that a
translation can move an f-string's fields but never change the code they run."""
import nbformat
import pytest

from autograder.notebooks import code_units, fields, translate_cell

DEMO = '''\
import numpy as np  # the data
x = {"raw": 1}

def f(a):
    """Scale a."""
    return a

print("plain message", x["raw"])
print(f"{name:>9}: accuracy {float(curves[name]['accuracy'][-1]):.3f}, reached "
      f"at step {step}")
ax.set_ylabel("test accuracy"), ax.set_title(title + ": percentiles")
ax.plot(steps, values, label="without BN")
for name, X_train in [("raw pixels", a), ("standardized", b)]:
    print(f"{name}: {X_train.shape}")
for ax, key, title in [(axes[0], "baseline", "(a) without BN")]:
    ax.plot(curves[key]["accuracy"])
np.save("weights.npy", x)
'''


def _words(source):
    return [(text, kind) for _start, _end, text, kind in code_units(source)]


def test_shown_words_are_units_and_code_is_not():
    words = _words(DEMO)
    assert ("the data", "comment") in words and ("Scale a.", "docstring") in words
    shown = {text for text, kind in words if kind == "message"}
    assert shown == {
        "plain message",
        "{name:>9}: accuracy {float(curves[name]['accuracy'][-1]):.3f}, reached ",  # each concatenated piece
        "at step {step}",
        "test accuracy", ": percentiles",                   # a figure's label and title, also inside a sum
        "without BN",                                        # label=
        "raw pixels", "standardized",                        # a demo loop's row labels
        "{name}: {X_train.shape}",
        "(a) without BN",                                    # shown; "baseline" is a key (curves[key])
    }


def test_fields_compare_expressions_not_their_place():
    assert fields("{a:.3f} then {b}") == fields("{b} 다음 {a:.3f}")
    assert fields("{a:.3f}") != fields("{a:.2f}") and fields("{a}") != fields("{b}")
    assert fields("{'label':<30}{x}") == fields("{'레이블':<30}{x}")  # a quoted field is words
    assert fields("no braces") is None and fields("{") != fields("{}")


@pytest.mark.parametrize("korean, applied", [
    ("{name}의 모양: {X_train.shape}", True),
    ("{name}의 모양: {__import__('os').getcwd()}", False),   # a changed expression is never put in the code
    ('{name}의 "모양"', False),                             # nor a quote that ends the string early
])
def test_a_translation_never_changes_the_code(korean, applied):
    cell = nbformat.v4.new_code_cell('print(f"{name}: {X_train.shape}")')
    translate_cell(cell, {"{name}: {X_train.shape}": korean})
    assert (cell.source == f'print(f"{korean}")') is applied
    if not applied:
        assert cell.source == 'print(f"{name}: {X_train.shape}")'
