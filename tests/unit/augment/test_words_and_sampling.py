"""Word splitting, the replaceable-word rule, rendering, and the statistics of the draw."""

import numpy as np
import pytest

from augment import split_words
from augment.candidates import TextCandidates
from augment.sampling import draw_replacements, draw_variants


def test_only_alphabetic_non_stop_words_outside_contractions_are_replaceable():
    words = split_words("I won't pay $3.5 for John's 2 old PG&E cats, gonna sing \"no\".")
    chosen = [t for t, ok in zip(words.tokens, words.replaceable()) if ok]
    assert chosen == ["pay", "John", "old", "cats", "sing"]


def test_render_keeps_everything_else_byte_for_byte():
    text = 'He said "the witness", and won\'t  budge . '
    words = split_words(text)
    index = words.tokens.index("witness")
    assert words.render({index: "judge"}) == 'He said "the judge", and won\'t  budge . '
    assert words.render({}) is text
    assert words.render({0: "she"}).startswith("She said")  # case style of the original word
    assert split_words("NASA works").render({0: "agency"}) == "AGENCY works"


def _candidates(text, options):
    return TextCandidates(split_words(text), options)


def test_each_word_replaced_with_probability_p_by_a_uniform_choice():
    cands = _candidates("alpha beta gamma delta", {i: ["w0", "w1", "w2", "w3"] for i in range(4)})
    draws = draw_replacements(cands, 5000, 0.3, np.random.default_rng(0))
    replaced = np.array([[i in d for i in range(4)] for d in draws])
    assert replaced.mean() == pytest.approx(0.3, abs=0.015)
    assert np.abs(replaced.mean(axis=0) - 0.3).max() < 0.03
    choices = np.array([int(w[1]) for d in draws for w in d.values()])
    assert np.abs(np.bincount(choices, minlength=4) / len(choices) - 0.25).max() < 0.02


def test_n_copies_are_distinct_and_p_bounds_hold():
    cands = _candidates("alpha beta gamma delta epsilon", {i: [f"w{j}" for j in range(15)] for i in range(5)})
    rng = np.random.default_rng(1)
    variants = [v.texts for v in draw_variants([cands], 20, 0.5, rng)]
    assert len(variants) == 20 == len(set(variants)) and ("alpha beta gamma delta epsilon",) not in variants
    assert draw_variants([cands], 20, 0.0, rng) == []  # p = 0: nothing but the original
    every = [v.texts for v in draw_variants([cands], 5, 1.0, rng)]  # p = 1: every candidate word replaced
    assert all(not set(v[0].split()) & {"alpha", "beta", "gamma", "delta", "epsilon"} for v in every)
    assert draw_variants([_candidates("", {})], 20, 0.4, rng) == []  # empty text: no copies


def test_pair_copies_pair_draw_j_of_a_with_draw_j_of_b():
    a = _candidates("red car", {0: ["blue", "green"], 1: ["bus", "van"]})
    b = _candidates("big house", {0: ["small", "tall"], 1: ["home", "hut"]})
    drawn = draw_variants([a, b], 200, 0.5, np.random.default_rng(3))
    assert drawn == draw_variants([a, b], 200, 0.5, np.random.default_rng(3))  # deterministic for a seed
    variants = [v.texts for v in drawn]
    rng = np.random.default_rng(3)
    draws_a, draws_b = draw_replacements(a, 200, 0.5, rng), draw_replacements(b, 200, 0.5, rng)
    expected = [(a.words.render(x), b.words.render(y)) for x, y in zip(draws_a, draws_b)]
    assert variants == list(dict.fromkeys(e for e in expected if e != ("red car", "big house")))
    assert len({v[1] for v in variants}) > 2  # text B varies along with text A
    assert all(v.texts == (a.words.render(v.replaced[0]), b.words.render(v.replaced[1])) for v in drawn)
    marked = a.words.render({0: "blue"}, marked=True)
    assert marked == "[red→blue] car" and split_words("Red car").render({0: "blue"}, marked=True) == "[Red→Blue] car"
