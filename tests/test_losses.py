import pytest
import torch
import torch.nn.functional as F


def build(**kwargs):
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(dict(type='WeightedCrossEntropyLoss', **kwargs))


def test_weighted_ce_ignores_255_and_matches_by_hand():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 2, 2)
    label = torch.tensor([[[0, 1], [255, 2]], [[0, 0], [255, 255]]])
    loss = build(class_weight=[1.0, 5.0, 5.0])(logits, label)
    # by hand: weighted mean of -log p over the 5 labelled pixels
    logp = F.log_softmax(logits, 1)
    num = den = 0.0
    for n in range(2):
        for i in range(2):
            for j in range(2):
                c = int(label[n, i, j])
                if c == 255:
                    continue
                w = [1.0, 5.0, 5.0][c]
                num += -w * float(logp[n, c, i, j])
                den += w
    assert loss.item() == pytest.approx(num / den, rel=1e-5)
    plain = build()(logits, label)
    assert plain.item() == pytest.approx(F.cross_entropy(logits, label, ignore_index=255).item(), rel=1e-6)


def test_all_ignored_gives_zero_with_grad_and_validation():
    logits = torch.randn(1, 2, 2, 2, requires_grad=True)
    loss = build(class_weight=[1.0, 2.0])(logits, torch.full((1, 2, 2), 255))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.all(logits.grad == 0)
    with pytest.raises(ValueError, match='class weights for'):
        build(class_weight=[1.0, 2.0, 3.0])(logits, torch.zeros(1, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="start with 'loss_'"):
        build(loss_name='ce')


def test_defect_weight_equals_explicit_class_weights():
    torch.manual_seed(1)
    logits = torch.randn(2, 4, 3, 3)
    label = torch.randint(0, 4, (2, 3, 3))
    label[0, 0, 0] = 255
    a = build(defect_weight=5.0)(logits, label)
    b = build(class_weight=[1.0, 5.0, 5.0, 5.0])(logits, label)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    with pytest.raises(ValueError, match='defect_weight'):
        build(defect_weight=-1.0)


def test_class_dice_by_hand_ignores_255_and_absent_classes():
    import math

    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        dice = MODELS.build(dict(type='ClassDiceLoss', loss_weight=2.0))
    # one image, 3 pixels, 3 classes; class 2 absent from the labels, pixel 3 ignored
    logits = torch.tensor([[[0.0, 0.0, 9.0]], [[0.0, math.log(3.0), 0.0]], [[-1e4, -1e4, 0.0]]])[None]
    label = torch.tensor([[[0, 1, 255]]])
    # p(valid pixels): pixel 1 (.5, .5, 0), pixel 2 (.25, .75, 0); eps = 1
    d0 = (2 * 0.5 + 1) / ((0.5 + 0.25) + 1 + 1)
    d1 = (2 * 0.75 + 1) / ((0.5 + 0.75) + 1 + 1)
    assert dice(logits, label).item() == pytest.approx(2.0 * ((1 - d0) + (1 - d1)) / 2, rel=1e-5)
    other = logits.clone()
    other[0, :, 0, 2] = torch.tensor([-5.0, 7.0, 3.0])  # whatever is predicted on the ignored pixel
    assert dice(other, label).item() == pytest.approx(dice(logits, label).item(), rel=1e-6)
    every = torch.full((1, 1, 3), 255)
    assert dice(logits.requires_grad_(), every).item() == 0.0
