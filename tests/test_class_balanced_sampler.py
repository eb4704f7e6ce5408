"""ClassBalancedSampler: p_i ∝ max_{c in L_i} n_c^-power from image-level labels only."""
import itertools

import pytest
import torch


class Labels:
    def __init__(self, labels):
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, i):
        return dict(image_labels=self.labels[i])


# 4 OK images, 2 with class 1, one with class 2, one with classes 1 and 2: n_OK = 4, n_1 = 3, n_2 = 2
LABELS = [[], [], [], [], [1], [1], [2], [1, 2]]


def test_weights_by_hand():
    from mmwsss.datasets import class_balanced_weights
    w = class_balanced_weights(LABELS, power=1.0)
    raw = torch.tensor([1 / 4] * 4 + [1 / 3, 1 / 3, 1 / 2, 1 / 2])  # the two-class image takes its rarer class
    torch.testing.assert_close(w, raw / raw.sum())
    torch.testing.assert_close(class_balanced_weights(LABELS, power=0.0), torch.full((8, ), 1 / 8))
    half = torch.tensor([4 ** -0.5] * 4 + [3 ** -0.5] * 2 + [2 ** -0.5] * 2)
    torch.testing.assert_close(class_balanced_weights(LABELS, power=0.5), half / half.sum())


def test_sampler_from_registry_draws_by_the_weights():
    from mmengine.registry import DATA_SAMPLERS
    sampler = DATA_SAMPLERS.build(dict(type='ClassBalancedSampler', dataset=Labels(LABELS), power=1.0, seed=0))
    assert len(sampler) == 8
    draws = torch.tensor(list(itertools.islice(iter(sampler), 40000)))
    freq = torch.bincount(draws, minlength=8).float() / draws.numel()
    torch.testing.assert_close(freq, sampler.weights, atol=0.01, rtol=0)
    again = list(itertools.islice(iter(sampler), 50))
    assert again == draws[:50].tolist()  # seeded: the same stream each time


def test_ranks_split_one_stream(monkeypatch):
    from mmwsss.datasets import class_balanced_sampler as module
    streams = []
    for rank in (0, 1):
        monkeypatch.setattr(module, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = module.ClassBalancedSampler(Labels(LABELS), seed=3)
        streams.append(list(itertools.islice(iter(sampler), 8)))
    monkeypatch.setattr(module, 'get_dist_info', lambda: (0, 1))
    whole = list(itertools.islice(iter(module.ClassBalancedSampler(Labels(LABELS), seed=3)), 16))
    assert streams[0] == whole[:8][0::2] + whole[8:16][0::2] and streams[1] == whole[:8][1::2] + whole[8:16][1::2]


def test_needs_image_labels():
    from mmwsss.datasets import ClassBalancedSampler

    class NoLabels(Labels):
        def get_data_info(self, i):
            return dict(img_path='a.png')

    with pytest.raises(ValueError, match="needs image_labels in every data info; NoLabels sample 0 has none"):
        ClassBalancedSampler(NoLabels([[]]))
    with pytest.raises(ValueError, match='power must be >= 0'):
        ClassBalancedSampler(Labels(LABELS), power=-1)
