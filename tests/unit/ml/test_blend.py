"""Blending two classifiers: the held-out split, class alignment, the weight, multi-label F1."""

from __future__ import annotations

from collections import Counter

import numpy as np

from lexicraft.ml.base import ClassExample
from lexicraft.ml.classification import blend


def test_the_split_holds_out_a_share_of_each_class_and_keeps_rare_classes_whole() -> None:
    examples = [ClassExample(f"a{index}", ("a",)) for index in range(50)]
    examples += [ClassExample(f"b{index}", ("b",)) for index in range(20)]
    examples += [ClassExample(f"c{index}", ("c",)) for index in range(7)]
    training, held_out = blend.stratified_split(examples, 0.1, seed=0)
    assert Counter(example.classes[0] for example in held_out) == {"a": 5, "b": 2}
    assert sorted(example.text for example in training + held_out) == sorted(
        example.text for example in examples
    )
    assert blend.stratified_split(examples, 0.1, seed=0) == (training, held_out)


def test_scores_are_aligned_to_the_label_order_with_zero_for_unseen_classes() -> None:
    scores = np.array([[0.25, 0.75]])
    result = blend.aligned(scores, ["c", "a"], ["a", "b", "c"])
    assert result.tolist() == [[0.75, 0.0, 0.25]]


def test_a_blend_is_still_a_probability_distribution() -> None:
    first = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    second = np.array([[0.0, 1.0, 0.0], [0.3, 0.3, 0.4]])
    mixed = blend.blend(first, second, 0.3)
    assert np.allclose(mixed.sum(axis=1), 1.0)
    assert np.allclose(mixed[0], [0.49, 0.44, 0.07])
    assert np.array_equal(blend.blend(first, second, 0.0), first)


def test_the_weight_is_zero_when_the_second_model_only_adds_errors() -> None:
    first = np.array([[0.6, 0.4], [0.4, 0.6], [0.7, 0.3]])
    wrong = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert blend.best_weight(first, wrong, np.array([0, 1, 0])) == 0.0


def test_the_weight_is_the_smallest_that_fixes_what_the_second_model_knows() -> None:
    # The first model is unsure and wrong on the third document; the second one is sure there.
    first = np.array([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45]])
    second = np.array([[0.5, 0.5], [0.5, 0.5], [0.0, 1.0]])
    weight = blend.best_weight(first, second, np.array([0, 1, 1]))
    assert weight == 0.1
    assert (blend.blend(first, second, weight).argmax(axis=1) == [0, 1, 1]).all()


def test_macro_f1_averages_the_classes_that_occur() -> None:
    chosen = np.array([[True, True, False], [True, False, False]])
    targets = np.array([[True, True, False], [False, False, False]])
    # Class 0: one of two chosen is right (F1 2/3); class 1: right (1); class 2: absent.
    assert blend.macro_f1(chosen, targets) == (2 / 3 + 1.0) / 2
    assert blend.macro_f1(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 0.0


def test_multi_label_blend_takes_the_class_only_the_second_model_separates() -> None:
    targets = np.array([[True, False], [False, True], [True, True], [False, False]])
    # The first model knows class 0 and is blind to class 1; the second knows only class 1.
    first = np.where(targets, [0.9, 0.5], [0.1, 0.5])
    second = np.where(targets, [0.5, 1.0], [0.5, 0.0])
    weight, thresholds = blend.best_multi_label_blend(first, second, targets, 0.5, 1)
    assert weight == 0.1
    assert ((blend.blend(first, second, weight) >= thresholds) == targets).all()


def test_multi_label_blend_keeps_a_perfect_first_model_alone() -> None:
    targets = np.array([[True, False], [False, True], [True, True], [False, False]])
    first = np.where(targets, 0.9, 0.1)
    inverted = np.where(targets, 0.0, 1.0)
    weight, thresholds = blend.best_multi_label_blend(first, inverted, targets, 0.5, 1)
    assert weight == 0.0
    assert ((first >= thresholds) == targets).all()


def test_the_single_label_choice_reports_each_candidates_held_out_accuracy() -> None:
    first = np.array([[0.9, 0.1], [0.2, 0.8], [0.55, 0.45]])
    second = np.array([[0.5, 0.5], [0.5, 0.5], [0.0, 1.0]])

    choice = blend.single_label_choice(first, second, np.array([0, 1, 1]))

    assert choice.linear_weight == 0.1
    assert choice.chosen == "blend"
    assert choice.measure == "accuracy"
    assert choice.documents == 3
    # A tie goes to the first class: the second model alone is right on documents 0 and 2.
    assert choice.scores == {"encoder": 2 / 3, "linear": 2 / 3, "blend": 1.0}


def test_the_multi_label_choice_reports_each_candidates_held_out_macro_f1() -> None:
    targets = np.array([[True, False], [False, True], [True, True], [False, False]])
    first = np.where(targets, 0.9, 0.1)
    inverted = np.where(targets, 0.0, 1.0)

    choice, thresholds = blend.multi_label_choice(first, inverted, targets, 0.5, 1)

    assert (choice.linear_weight, choice.chosen, choice.measure) == (0.0, "encoder", "macroF1")
    assert choice.scores["encoder"] == 1.0
    assert choice.scores["blend"] == 1.0
    assert choice.scores["linear"] < 1.0  # inverted scores: no threshold separates them
    assert ((first >= thresholds) == targets).all()
