"""The static baseline (distill/models/static.py): rarity weights, pooling per sentence
and pair features worked by hand; the regression learns what it can and its L2 is chosen on held-out rows."""

import numpy as np
import pytest
import torch

from distill.models.static import PCA_DIMS, SIF_A, StaticClassifier, fit_static, static_table


def test_the_table_weights_each_piece_by_its_rarity_and_zeroes_special_pieces():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(PCA_DIMS + 10, 300)).astype(np.float32)
    train_ids = [[5, 5, 6], [5, 7]]  # piece 5 is 3/5 of the training pieces, 6 and 7 are 1/5 each
    table = static_table(vectors, train_ids, special_ids=[0, 1])
    assert table.shape == (PCA_DIMS + 10, PCA_DIMS)
    assert np.all(table[[0, 1]] == 0)
    centred = vectors - vectors.mean(axis=0)
    norms = np.linalg.norm(table, axis=1)
    # piece 8 never occurs: weight a / (a + 0) = 1
    assert norms[8] == pytest.approx(np.linalg.norm(_reduced(centred)[8]), rel=1e-4)
    assert norms[5] == pytest.approx(np.linalg.norm(_reduced(centred)[5]) * SIF_A / (SIF_A + 3 / 5), rel=1e-4)
    assert norms[6] == pytest.approx(np.linalg.norm(_reduced(centred)[6]) * SIF_A / (SIF_A + 1 / 5), rel=1e-4)


def _reduced(centred):
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:PCA_DIMS].T


def test_a_pair_is_the_mean_of_each_sentences_pieces_and_their_differences():
    table = np.array([[0, 0], [0, 0], [1, 0], [3, 2], [0, 4]], dtype=np.float32)  # ids 0, 1: special
    model = StaticClassifier(table, special_ids=[0, 1], pair=True, classes=2)
    batch = {  # [CLS] 2 3 [SEP] 4 [SEP] [PAD]
        "input_ids": torch.tensor([[0, 2, 3, 1, 4, 1, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1, 0]]),
        "token_type_ids": torch.tensor([[0, 0, 0, 0, 1, 1, 0]]),
    }
    u, v = torch.tensor([2.0, 1.0]), torch.tensor([0.0, 4.0])
    expected = torch.cat([u, v, (u - v).abs(), u * v])
    assert torch.allclose(model.features(**batch)[0], expected)
    single = StaticClassifier(table, special_ids=[0, 1], pair=False, classes=2)
    assert torch.allclose(single.features(**batch)[0], torch.tensor([4 / 3, 2.0]))  # all three pieces
    assert model(**batch).logits.shape == (1, 2)


class _Examples:
    """Just what fit_static reads: indexed token ids and labels."""

    def __init__(self, ids, labels):
        self.ids, self.labels = ids, torch.tensor(labels)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return self.ids[i]

    def collate(self, rows):
        ids = torch.tensor(rows)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": self.labels}


def test_the_regression_separates_what_the_table_separates_and_l2_is_chosen_on_the_held_out_rows():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(20, 8)).astype(np.float32)

    # label 1 when the sentence holds a piece of 10-19: separable by the mean's direction
    def examples(n):
        labels = rng.integers(0, 2, size=n)
        ids = [list(rng.integers(10 * label, 10 * label + 10, size=4)) for label in labels]
        return _Examples(ids, labels.tolist())

    fit = fit_static(table, [], pair=False, classes=2, train=examples(200), holdout=examples(100))
    assert max(fit.holdout_acc_by_l2.values()) >= 0.9
    assert fit.holdout_acc_by_l2[f"{fit.l2:g}"] == max(fit.holdout_acc_by_l2.values())
    test = examples(100)
    batch = test.collate(test.ids)
    accuracy = fit.model(**{k: v for k, v in batch.items() if k != "labels"}).logits.argmax(-1) == test.labels
    assert accuracy.float().mean() >= 0.9
