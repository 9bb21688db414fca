"""Independent PyTorch reference of the survey pipeline, to check the service.

A ONE-OFF check run by hand. It is not part of CI (nothing runs it: `deno
task test` only picks up `*_test.ts` files) and not part of the product.

What it shows: for the same ONNX file (the project's tiny ViT with the
DINOv2 hub-export I/O contract, `models/tiny_vit_graph.ts`), the features and
predicted points of this service equal an independent re-implementation of
the official survey pipeline (Visual-AI/Semantic-Correspondence) written
with torch.nn.functional, on real PF-WILLOW pairs:

- preprocessing, S = 224 and 448, stretched to S x S:
  `resample=torch` (the service's default, the official `test.py`
  `load_dataset` transform): `T.Compose([T.ToTensor(), T.Resize((S, S)),
  T.Normalize(mean, std)])` on `Image.open(p).convert("RGB")`, torchvision
  0.14.1 resizing the float tensor (bilinear, no antialias, no 8-bit
  rounding); `resample=pil` (a PIL reference): `Image.resize((S, S),
  Image.BILINEAR)` on the 8-bit image, then `ToTensor()` and `Normalize`;
- the ViT forward from the ONNX initializers (`onnx.load` +
  `onnx.numpy_helper.to_array`): patch conv2d, CLS token (+ its position
  embedding, stored pre-added as `prefix_tokens`), position grid resized with
  `F.interpolate(mode="bicubic", align_corners=False)` (the graph's ONNX
  Resize is `cubic`, `cubic_coeff_a=-0.75`, `pytorch_half_pixel`), pre-norm
  blocks with `F.layer_norm` (eps 1e-6), softmax attention, LayerScale, an
  MLP with exact (erf) GELU (`F.gelu`, the graph writes
  `0.5 x (1 + erf(x / sqrt 2))`), and a final LayerNorm;
- features: CLS dropped, `[C, h, w]`;
- queries: `.mat` `pts_coord` as stored (no -1), `x' = x (S-1)/(W-1)`,
  `g = x' (w-1)/(S-1)`, sampled with `F.grid_sample(align_corners=True)`
  (unclamped, zero padding, as the official `extract_feature`);
- cosine similarity to every target cell (`F.normalize`), nn = argmax,
  kernel-softargmax as `kernel_softargmax_get_matches`: raw scores times an
  unnormalized Gaussian (sigma 7 cells) centred at the argmax, softmax with
  T = 0.03, weighted mean of cell coordinates;
- back to target pixels: `x = g (S-1)/(w-1) (W-1)/(S-1)`.

Pass criteria, per resample mode, resolution and localizer: model inputs
equal to 1e-6 (they are bit-exact), features equal to float precision, nn
matches identical (same cell) on at least 99% of the points, kernel
soft-argmax matches within 0.5 px at the 99th percentile.

How to run (from the repository root; Debian bookworm packages: torch 1.13,
onnx 1.12; use the system Python, not a pyenv one):

    apt-get install -y python3-torch python3-onnx python3-pil python3-scipy
    deno run --allow-read --allow-write --allow-env --allow-net \\
        tests/reference/dump_service_outputs.ts /tmp/survey_ref
    /usr/bin/python3 tests/reference/survey_reference.py /tmp/survey_ref

The first command writes the ONNX file, a MODELS_CONFIG file, the service's
model inputs and features (FeatureExtractor) and its /v1/match answers (real
service, nn and kernel-softargmax at 224 and 448, 40 pairs, `resample`
defaulted and `pil`) into /tmp/survey_ref; this script reads them and
recomputes everything. Options: `--dtype float32` runs
the reference in float32 instead of float64; `--pfwillow DIR` overrides the
PF-WILLOW `PF-dataset` directory recorded in the dump. Exit status 0 when
every check passes, 1 otherwise.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
import scipy.io
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from onnx import numpy_helper
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
TEMPERATURE = 0.03
SIGMA = 7.0
SOFT_TOLERANCE_PX = 0.5  # at the 99th percentile
NN_AGREEMENT = 0.99
INPUT_TOLERANCE = 1e-6
FEATURE_TOLERANCE = 5e-5  # relative to max |feature| (at least 1)


class TinyVit:
    """The ViT of models/tiny_vit_graph.ts, weights taken from the ONNX file."""

    def __init__(self, path, dtype):
        model = onnx.load(path)
        self.w = {
            t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).to(dtype)
            for t in model.graph.initializer
        }
        self.check_graph(model)
        self.dtype = dtype
        self.dim = self.w["patch_embed.bias"].shape[0]
        self.patch = self.w["patch_embed.weight"].shape[-1]
        self.depth = sum(1 for k in self.w if k.endswith(".norm1.weight"))
        self.head_dim = int(round(1.0 / float(self.w["attn_scale"]) ** 2))
        self.heads = self.dim // self.head_dim
        self.prefix = self.w["prefix_tokens"].shape[1]

    @staticmethod
    def check_graph(model):
        """Fails loudly if the graph's operator settings are not those assumed here."""
        ops = {n.op_type for n in model.graph.node}
        assert "Erf" in ops and "Tanh" not in ops, f"expected an erf GELU, got ops {ops}"
        for n in model.graph.node:
            a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
            if n.op_type == "Resize":
                assert a.get("mode") == b"cubic", a
                assert abs(a.get("cubic_coeff_a", -0.75) + 0.75) < 1e-7, a
                assert a.get("coordinate_transformation_mode") == b"pytorch_half_pixel", a
                assert a.get("exclude_outside", 0) == 0, a
            if n.op_type == "LayerNormalization":
                assert abs(a["epsilon"] - 1e-6) < 1e-12 and a["axis"] == -1, a
            if n.op_type == "Conv":
                assert list(a["strides"]) == list(a["kernel_shape"]), a
                assert not any(a.get("pads", [])), a

    def layer_norm(self, x, name):
        return F.layer_norm(x, (self.dim,), self.w[f"{name}.weight"], self.w[f"{name}.bias"], 1e-6)

    def linear(self, x, name):
        return x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    @torch.no_grad()
    def __call__(self, pixels):
        """pixels [1, 3, S, S] -> last_hidden_state [1, prefix + h*w, C]."""
        w = self.w
        x = F.conv2d(pixels, w["patch_embed.weight"], w["patch_embed.bias"], stride=self.patch)
        _, c, h, wd = x.shape
        patches = x.flatten(2).transpose(1, 2)
        pos = F.interpolate(w["pos_embed.grid"], size=(h, wd), mode="bicubic", align_corners=False)
        patches = patches + pos.flatten(2).transpose(1, 2)
        t = torch.cat([w["prefix_tokens"], patches], dim=1)
        n = t.shape[1]
        for i in range(self.depth):
            p = f"blocks.{i}"
            y = self.layer_norm(t, f"{p}.norm1")
            split = lambda name: self.linear(y, f"{p}.attn.{name}").view(
                1, n, self.heads, self.head_dim
            ).transpose(1, 2)
            q, k, v = split("query"), split("key"), split("value")
            attn = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim), dim=-1)
            ctx = (attn @ v).transpose(1, 2).reshape(1, n, self.dim)
            t = t + self.linear(ctx, f"{p}.attn.output") * w[f"{p}.layer_scale1"]
            hidden = F.gelu(self.linear(self.layer_norm(t, f"{p}.norm2"), f"{p}.mlp.fc1"))
            t = t + self.linear(hidden, f"{p}.mlp.fc2") * w[f"{p}.layer_scale2"]
        return self.layer_norm(t, "layernorm")

    def features(self, pixels):
        """[C, h, w] patch features (CLS and registers dropped)."""
        s = pixels.shape[-1]
        g = s // self.patch
        tokens = self(pixels)[0, self.prefix:]
        return tokens.transpose(0, 1).reshape(self.dim, g, g)


def model_input(path, size, resample):
    """The [1, 3, S, S] float32 input as the recipe builds it (see the module doc)."""
    image = Image.open(path).convert("RGB")
    normalize = T.Normalize(mean=MEAN, std=STD)
    if resample == "torch":
        x = T.Compose([T.ToTensor(), T.Resize((size, size)), normalize])(image)
    elif resample == "pil":
        x = normalize(T.ToTensor()(np.asarray(image.resize((size, size), Image.BILINEAR))))
    else:
        raise ValueError(f"unknown resample {resample}")
    return x.unsqueeze(0).contiguous()


def extract_feature(featmap, g):
    """Official extract_feature: grid_sample(align_corners=True) at grid coords g [Q, 2]."""
    _, h, w = featmap.shape
    norm = torch.stack([g[:, 0] / (w - 1) * 2 - 1, g[:, 1] / (h - 1) * 2 - 1], dim=-1)
    out = F.grid_sample(
        featmap[None], norm[None, :, None, :].to(featmap.dtype), mode="bilinear",
        padding_mode="zeros", align_corners=True,
    )
    return out[0, :, :, 0].transpose(0, 1)  # [Q, C]


def match(src_feat, trg_feat, g):
    """nn cells and kernel-softargmax grid coordinates of each query."""
    c, h, w = trg_feat.shape
    q = F.normalize(extract_feature(src_feat, g), dim=-1)
    t = F.normalize(trg_feat.reshape(c, -1), dim=0)
    scores = q @ t  # [Q, h*w]
    best = torch.argmax(scores, dim=-1)
    top2 = torch.topk(scores, 2, dim=-1).values
    margin = top2[:, 0] - top2[:, 1]
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=scores.dtype), torch.arange(w, dtype=scores.dtype), indexing="ij"
    )
    xs, ys = xs.reshape(-1), ys.reshape(-1)
    bx, by = (best % w).to(scores.dtype), (best // w).to(scores.dtype)
    kernel = torch.exp(-((xs[None] - bx[:, None]) ** 2 + (ys[None] - by[:, None]) ** 2)
                       / (2 * SIGMA**2))
    p = torch.softmax(scores * kernel / TEMPERATURE, dim=-1)
    soft = torch.stack([(p * xs[None]).sum(-1), (p * ys[None]).sum(-1)], dim=-1)
    return best, soft, top2[:, 0], margin


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump", help="directory written by dump_service_outputs.ts")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--pfwillow", help="PF-WILLOW PF-dataset directory (default: from the dump)")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    with open(os.path.join(args.dump, "service_outputs.json")) as f:
        dump = json.load(f)
    root = args.pfwillow or dump["pfwillow"]
    vit = TinyVit(os.path.join(args.dump, dump["model"]["onnx"]), dtype)
    print(f"model: {dump['model']['options']} -> dim {vit.dim}, heads {vit.heads}, "
          f"depth {vit.depth}, patch {vit.patch}, prefix {vit.prefix}; reference in {args.dtype}")
    ok = True

    cache = {}

    def ref_features(cls, name, size, resample):
        key = (cls, name, size, resample)
        if key not in cache:
            pixels = model_input(os.path.join(root, cls, name), size, resample)
            cache[key] = (pixels, vit.features(pixels.to(dtype)))
        return cache[key]

    # 1. Inputs and features.
    print("\n== features (FeatureExtractor vs PyTorch) ==")
    worst_feat = 0.0
    for e in dump["features"]:
        pixels, ref = ref_features(e["class"], e["image"], e["resolution"], e["resample"])
        g = e["grid"]
        svc = np.fromfile(os.path.join(args.dump, e["features_file"]), dtype="<f4")
        svc = torch.from_numpy(svc.reshape(g["channels"], g["height"], g["width"]).copy())
        svc_input = np.fromfile(os.path.join(args.dump, e["input_file"]), dtype="<f4")
        input_diff = float(np.abs(svc_input - pixels.numpy().reshape(-1)).max())
        diff = (svc.to(torch.float64) - ref.to(torch.float64)).abs()
        scale = ref.abs().max().item()
        worst_feat = max(worst_feat, diff.max().item())
        print(f"{e['class']}/{e['image']} @{e['resolution']} {e['resample']:5s} grid "
              f"{tuple(ref.shape)}: model input max |diff| {input_diff:.3e}, feature max |diff| "
              f"{diff.max().item():.3e} (mean {diff.mean().item():.3e}, max |feature| {scale:.2f})")
        # float32 noise is ~1e-6 here; a tanh GELU would already give ~5e-4.
        if input_diff > INPUT_TOLERANCE or diff.max().item() > FEATURE_TOLERANCE * max(scale, 1.0):
            ok = False

    # 2. Matches.
    print("\n== matches (/v1/match vs PyTorch) ==")
    stats = {}
    worst_points = 0.0
    worst_score = 0.0
    near_ties = []
    for r in dump["pairs"]:
        cls, S, loc, resample = r["class"], r["resolution"], r["localizer"], r["resample"]
        pts = scipy.io.loadmat(os.path.join(root, cls, r["source"].replace(".png", ".mat")))
        pts = np.asarray(pts["pts_coord"], dtype=np.float64).T  # [10, 2] x, y, as stored
        worst_points = max(worst_points, float(np.abs(pts - np.asarray(r["points"])).max()))
        _, fa = ref_features(cls, r["source"], S, resample)
        _, fb = ref_features(cls, r["target"], S, resample)
        W, H = r["source_size"]["width"], r["source_size"]["height"]
        Wt, Ht = r["target_size"]["width"], r["target_size"]["height"]
        h, w = fa.shape[1:]
        assert (fb.shape[1], fb.shape[2]) == (r["grid"]["height"], r["grid"]["width"])
        p = torch.from_numpy(pts).to(dtype)
        frame = torch.stack([p[:, 0] * (S - 1) / (W - 1), p[:, 1] * (S - 1) / (H - 1)], dim=-1)
        g = torch.stack([frame[:, 0] * (w - 1) / (S - 1), frame[:, 1] * (h - 1) / (S - 1)], -1)
        best, soft, top, margin = match(fa, fb, g)
        ht, wt = fb.shape[1:]
        to_px = lambda gx, gy: (gx * (S - 1) / (wt - 1) * (Wt - 1) / (S - 1),
                                gy * (S - 1) / (ht - 1) * (Ht - 1) / (S - 1))
        svc = np.array([[m["x"], m["y"], m["score"]] for m in r["matches"]], dtype=np.float64)
        worst_score = max(worst_score, float(np.abs(svc[:, 2] - top.double().numpy()).max()))
        st = stats.setdefault(
            (resample, S, loc), {"n": 0, "same": 0, "dist": [], "outside": 0, "margin": 1.0}
        )
        st["outside"] += int(((g[:, 0] > w - 1) | (g[:, 1] > h - 1) | (g < 0).any(-1)).sum())
        if loc == "nn":
            # The service's pixel back to its grid cell.
            gx = np.rint(svc[:, 0] * (wt - 1) / (Wt - 1)).astype(int)
            gy = np.rint(svc[:, 1] * (ht - 1) / (Ht - 1)).astype(int)
            same = (gy * wt + gx) == best.numpy()
            rx, ry = to_px((best % wt).double(), (best // wt).double())
            d = np.hypot(svc[:, 0] - rx.numpy(), svc[:, 1] - ry.numpy())
            st["same"] += int(same.sum())
            st["margin"] = min(st["margin"], float(margin.min()))
            for i in np.nonzero(~same)[0]:
                near_ties.append(
                    (cls, r["source"], r["target"], resample, S, int(i), float(margin[i]))
                )
        else:
            rx, ry = to_px(soft[:, 0].double(), soft[:, 1].double())
            d = np.hypot(svc[:, 0] - rx.numpy(), svc[:, 1] - ry.numpy())
        st["n"] += len(pts)
        st["dist"].extend(d.tolist())

    print(f"keypoints: dumped vs scipy.io.loadmat max |diff| {worst_points:.3e} px")
    print(f"scores: service best score vs reference max cosine, max |diff| {worst_score:.3e}")
    pairs = len({(r["class"], r["source"], r["target"]) for r in dump["pairs"]})
    print(f"pairs: {pairs}")
    for (resample, S, loc), st in sorted(stats.items()):
        d = np.asarray(st["dist"])
        line = (f"{resample:5s} S={S} {loc:17s} queries {st['n']:4d}  max dist {d.max():.3e} px  "
                f"p99 {np.percentile(d, 99):.3e} px  mean {d.mean():.3e} px  (queries past the "
                f"last cell, unclamped here: {st['outside']})")
        if loc == "nn":
            share = st["same"] / st["n"]
            line += (f"  identical cells {st['same']}/{st['n']} ({100 * share:.2f}%)"
                     f"  (smallest top-1/top-2 cosine margin {st['margin']:.2e})")
            ok &= share >= NN_AGREEMENT
        else:
            ok &= np.percentile(d, 99) <= SOFT_TOLERANCE_PX
        print(line)
    for t in near_ties:
        print("nn mismatch: %s %s->%s %s S=%d point %d, reference top-1/top-2 margin %.3e" % t)
    print(f"\nmax feature |diff| overall: {worst_feat:.3e}")
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
