"""Writes tests/fixtures/preprocess_reference.json: model inputs as PyTorch,
torchvision and Pillow compute them, for tests/core/model_input_test.ts.

A ONE-OFF generator run by hand (not by CI, not part of the product). It
needs Debian bookworm's python3-torch 1.13, python3-torchvision 0.14 and
python3-pil 9.4 (the official survey code's versions):

    apt-get install -y python3-torch python3-torchvision python3-pil
    /usr/bin/python3 tests/reference/preprocess_reference.py

Each case builds the `[3, S, S]` float32 input of a model the way one
recipe does, from a synthetic pattern (stored in full) or a real PF-WILLOW
image read from ../shared/data (stored as the SHA-256 of the whole tensor
plus every 97th value):

- `torch`: the official survey code (`test.py`, `load_dataset`):
  `T.Compose([T.ToTensor(), T.Resize((S, S)), T.Normalize(mean, std)])`;
  letterbox cases resize the tensor to the content size and pad with 0
  (black) before `Normalize`.
- `pil`: `Image.resize(size, Image.BILINEAR)` on the 8-bit image, then
  `ToTensor()` and `Normalize` (the service's earlier preprocessing).
- `lanczos`: GeoAware-SC's `resize()`: `Image.resize(size, Image.LANCZOS)`
  with the aspect kept (short side `np.around(S * short / long)`), pasted on
  a zero canvas at `(S - n) // 2`, then `ToTensor()` and `Normalize`.
"""

import base64
import hashlib
import json
import os
import sys

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")
OUT = os.path.join(REPO, "tests", "fixtures", "preprocess_reference.json")

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
SAMPLE_STRIDE = 97


def pattern(width, height):
    """The test pattern of tests/core/resize_test.ts, RGB."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 37 + y * 53 + c * 91 + x * y * 11) % 256 for c in range(3)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def content_size(width, height, size, resize):
    """(w, h) of the resized image inside the S x S frame (core/frame.ts)."""
    if resize == "stretch":
        return size, size
    if height <= width:
        return size, max(1, int(np.around(size * height / width)))
    return max(1, int(np.around(size * width / height))), size


def model_input(rgb, size, resize, resample, mean, std):
    height, width = rgb.shape[:2]
    w, h = content_size(width, height, size, resize)
    normalize = T.Normalize(mean=mean, std=std)
    if resample == "torch":
        tensor = T.ToTensor()(rgb)
        tensor = T.Resize((h, w))(tensor)
        canvas = torch.zeros(3, size, size)
    else:
        flt = Image.BILINEAR if resample == "pil" else Image.LANCZOS
        tensor = T.ToTensor()(np.asarray(Image.fromarray(rgb).resize((w, h), flt)))
        canvas = torch.zeros(3, size, size)
    top, left = (size - h) // 2, (size - w) // 2
    canvas[:, top:top + h, left:left + w] = tensor
    return normalize(canvas).contiguous().numpy().astype("<f4")


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def main():
    cases = []
    synthetic = [
        ("torch", "stretch", (13, 7), 9),
        ("torch", "stretch", (5, 3), 8),
        ("torch", "stretch", (40, 30), 14),
        ("torch", "stretch", (9, 9), 9),
        ("torch", "letterbox", (13, 7), 10),
        ("torch", "letterbox", (6, 11), 12),
        ("pil", "stretch", (13, 7), 9),
        ("pil", "letterbox", (13, 7), 10),
        ("lanczos", "stretch", (40, 30), 14),
        ("lanczos", "letterbox", (13, 7), 10),
        ("lanczos", "letterbox", (6, 11), 12),
    ]
    for resample, resize, (w, h), size in synthetic:
        out = model_input(pattern(w, h), size, resize, resample, *IMAGENET)
        cases.append({
            "image": {"pattern": [w, h]}, "resample": resample, "resize": resize, "size": size,
            "mean": IMAGENET[0], "std": IMAGENET[1],
            "sha256": hashlib.sha256(out.tobytes()).hexdigest(),
            "stride": 1, "values": b64(out.reshape(-1)),
        })
    real = [
        ("pf-willow/PF-dataset/car(G)/Cars_006a.png", "torch", "stretch", 224),
        ("pf-willow/PF-dataset/car(G)/Cars_006a.png", "torch", "stretch", 448),
        ("pf-willow/PF-dataset/winebottle(M)/246_0001.png", "torch", "stretch", 224),
        ("pf-willow/PF-dataset/car(G)/Cars_006a.png", "torch", "letterbox", 224),
        ("pf-willow/PF-dataset/car(G)/Cars_006a.png", "pil", "stretch", 224),
        ("pf-willow/PF-dataset/car(G)/Cars_006a.png", "lanczos", "letterbox", 224),
        ("pf-willow/PF-dataset/winebottle(M)/246_0001.png", "lanczos", "letterbox", 448),
    ]
    for rel, resample, resize, size in real:
        path = os.path.join(SHARED, rel)
        if not os.path.exists(path):
            sys.exit(f"missing {path}: the shared PF-WILLOW images are needed")
        rgb = np.asarray(Image.open(path).convert("RGB"))
        out = model_input(rgb, size, resize, resample, *IMAGENET).reshape(-1)
        stride = SAMPLE_STRIDE * (size // 224) ** 2
        cases.append({
            "image": {"shared": rel}, "resample": resample, "resize": resize, "size": size,
            "mean": IMAGENET[0], "std": IMAGENET[1],
            "sha256": hashlib.sha256(out.tobytes()).hexdigest(),
            "stride": stride, "values": b64(out[::stride]),
        })
    doc = {
        "generator": "tests/reference/preprocess_reference.py",
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                     "pillow": PIL.__version__, "numpy": np.__version__},
        "layout": "float32 little-endian, [3, S, S] row-major; values = base64 of every "
                  "stride-th value; sha256 of the whole tensor",
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, REPO)}")


if __name__ == "__main__":
    main()
