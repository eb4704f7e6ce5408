"""LossRejectionEncoderDecoder: per batch and class, the labelled pixels of largest loss become ignore_index."""
import pytest
import torch

from .test_logit_adjustment import WEIGHTED, build, segmentor_cfg


def test_rejects_the_largest_losses_per_class_only():
    """Class 1: 4 pixels whose CE grows left to right (background logit 0..3, class logit 0); ratio 0.5 rejects the
    two largest. Class 2: 3 pixels, floor(0.5 * 3) = 1, the largest. Background and the band are never rejected."""
    from mmwsss.models import large_loss_rejection
    logits = torch.zeros(1, 3, 2, 5)
    logits[0, 0, 0, :4] = torch.tensor([0., 1., 2., 3.])        # row 0: class 1 pixels
    logits[0, 2, 1, :3] = torch.tensor([3., 1., 2.])            # row 1: class 2 pixels, the middle one worst
    labels = torch.tensor([[[1, 1, 1, 1, 255], [2, 2, 2, 0, 0]]])
    rejected = large_loss_rejection(logits, labels, 0.5, [1, 2])
    assert rejected.tolist() == [[[False, False, True, True, False], [False, True, False, False, False]]]
    assert not large_loss_rejection(logits, labels, 0.0, [1, 2]).any()
    # background included: floor(0.5 * 2) = 1 of its two pixels (equal loss: the first in pixel order)
    assert large_loss_rejection(logits, labels, 0.5, [0]).nonzero().tolist() == [[0, 1, 3]]
    with pytest.raises(ValueError, match=r'reject_ratio must be in \[0, 1\)'):
        large_loss_rejection(logits, labels, 1.0, [1])


def test_ratio_ramps_over_the_warmup():
    model = build(dict(segmentor_cfg(WEIGHTED), type='LossRejectionEncoderDecoder', reject_ratio=0.2,
                       warmup_iters=500))
    assert model.rejected_classes == [1, 2, 3]
    assert [model.current_ratio(t) for t in (0, 250, 500, 900)] == pytest.approx([0.0, 0.1, 0.2, 0.2])
    with pytest.raises(ValueError, match=r'model.reject_ratio must be in \[0, 1\)'):
        build(dict(segmentor_cfg(WEIGHTED), type='LossRejectionEncoderDecoder', reject_ratio=-0.1))


def test_loss_trains_on_the_labels_minus_the_rejected_pixels():
    """Through the registry: after ``loss`` the data samples' labels are the originals with exactly the pixels
    :func:`large_loss_rejection` picks on the head's logits set to 255, and the losses are finite."""
    from mmengine.logging import MessageHub
    from mmengine.structures import PixelData
    from mmseg.models.utils import resize
    from mmseg.structures import SegDataSample

    from mmwsss.models import large_loss_rejection
    torch.manual_seed(0)
    cfg = dict(segmentor_cfg(WEIGHTED), type='LossRejectionEncoderDecoder', reject_ratio=0.5, warmup_iters=0)
    cfg['decode_head']['dropout_ratio'] = 0.0  # the same logits in both forward passes
    model = build(cfg).train()
    MessageHub.get_current_instance().update_info('iter', 10)
    gen = torch.Generator().manual_seed(1)
    inputs = torch.rand(2, 3, 16, 16, generator=gen) * 255
    labels = torch.randint(0, 4, (2, 1, 16, 16), generator=gen)
    samples = []
    for label in labels:
        sample = SegDataSample(metainfo=dict(img_shape=(16, 16), ori_shape=(16, 16)))
        sample.gt_sem_seg = PixelData(data=label.clone())
        samples.append(sample)
    feats = model.extract_feat(inputs)
    with torch.no_grad():
        logits = resize(model.decode_head.forward(feats), size=(16, 16), mode='bilinear', align_corners=False)
    expected = labels[:, 0].masked_fill(large_loss_rejection(logits, labels[:, 0], 0.5, [1, 2, 3]), 255)
    losses = model.loss(inputs, samples)
    got = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    assert torch.equal(got, expected)
    for c in (1, 2, 3):  # half of each defect class's pixels, rounded down
        assert int((got == 255).logical_and(labels[:, 0] == c).sum()) == int((labels == c).sum()) // 2
    assert torch.isfinite(losses['decode.loss_ce']) and torch.isfinite(losses['decode.loss_dice'])
