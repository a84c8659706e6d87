"""The messages of autograder.compare.assert_close show numbers that read differently when they differ."""
import numpy as np
import pytest

from autograder.compare import CheckFailed, assert_close, distinct_digits


def test_distinct_digits_adds_digits_until_the_numbers_differ():
    got, expected = distinct_digits(-0.28248201, -0.28248200)
    assert got != expected and float(got) == pytest.approx(-0.28248201, abs=1e-12)
    assert distinct_digits(1.5, 2.5) == ("1.5", "2.5")           # six digits are enough: nothing added
    a, b = distinct_digits(1.0, np.nextafter(1.0, 2.0))          # the closest two floats still read apart
    assert a != b


def test_assert_close_message_shows_the_difference():
    expected = np.array([-0.282482, 0.5])
    actual = expected + np.array([1e-8, 0.0])
    with pytest.raises(CheckFailed) as failure:
        assert_close(actual, expected, what="x", rtol=0, atol=1e-9)
    worst = str(failure.value).split("Worst at")[1]
    got, wanted = worst.split("got ")[1].split(", expected ")
    assert got.strip() != wanted.strip(), worst
