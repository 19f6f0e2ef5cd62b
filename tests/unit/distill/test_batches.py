"""Length-grouped training batches: every example once per epoch, little padding, reproducible."""

import torch

from distill.training.batches import EpochShuffle


def _batches(sampler, size):
    order = list(sampler)
    return [order[i : i + size] for i in range(0, len(order), size)]


def test_grouped_batches_cover_every_example_once_with_little_padding():
    lengths = torch.randint(5, 120, (1000,), generator=torch.Generator().manual_seed(0))
    grouped = EpochShuffle(1000, seed=3, lengths=lengths, batch_size=32)
    plain = EpochShuffle(1000, seed=3)
    batches = _batches(grouped, 32)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(len(b) == 32 for b in batches[:-1]) and len(batches[-1]) == 1000 % 32  # short batch last

    def padded(batches):
        return sum(len(b) * max(lengths[b].tolist()) for b in batches)

    assert padded(batches) < 1.1 * int(lengths.sum()) < padded(_batches(plain, 32))


def test_grouped_order_depends_on_seed_and_epoch_only():
    lengths = list(range(200))
    first, again = EpochShuffle(200, 1, lengths, 16), EpochShuffle(200, 1, lengths, 16)
    assert list(first) == list(again)
    first.set_epoch(1)
    assert list(first) != list(again)
    again.set_epoch(1)
    assert list(first) == list(again)
    assert list(EpochShuffle(200, 2, lengths, 16)) != list(again)
