"""Bench only, never product: the official per-pair evaluation loop in PyTorch, timed.

The reference that `deno task bench` compares the service's evaluation with
(tests/bench/evaluate_bench.ts). Per pair, as the official DINOv2 evaluation
scripts do it: read both PNGs, ToTensor, Resize((S, S)) on the float tensor
(torchvision 0.14, bilinear), ImageNet normalization, one forward per image
(no features kept between pairs), then nearest-neighbour matching of 10
source points by cosine similarity over the target's patch grid.

The model is a ViT-S/14 of the DINOv2 contract (12 blocks, dim 384, 6 heads,
LayerScale, MLP ratio 4 with exact GELU, position embeddings stored for a
37 x 37 grid and resized bicubically to the input's grid at every forward),
with random weights: timing only.

Usage: python3 official_loop.py DIR [N] [THREADS] [SIZE]; prints one JSON line
{"pairs", "pairs_per_s", "forward_ms", "match_ms", "wall_ms", "threads"}.
"""

import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms


class Block(torch.nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.ls1 = torch.nn.Parameter(torch.full((dim,), 0.1))
        self.norm2 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = torch.nn.Linear(dim, 4 * dim)
        self.fc2 = torch.nn.Linear(4 * dim, dim)
        self.ls2 = torch.nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        y = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, c)
        x = x + self.ls1 * self.proj(y)
        return x + self.ls2 * self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VitS14(torch.nn.Module):
    def __init__(self, dim=384, heads=6, depth=12, patch=14, trained_grid=37):
        super().__init__()
        self.patch = patch
        self.patch_embed = torch.nn.Conv2d(3, dim, patch, patch)
        self.cls_token = torch.nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = torch.nn.Parameter(torch.randn(1, 1 + trained_grid**2, dim) * 0.02)
        self.blocks = torch.nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6)

    def forward(self, pixels):
        h, w = pixels.shape[2] // self.patch, pixels.shape[3] // self.patch
        x = self.patch_embed(pixels).flatten(2).transpose(1, 2)
        side = int(math.sqrt(self.pos_embed.shape[1] - 1))
        grid = self.pos_embed[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        pos = torch.cat([self.pos_embed[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + pos
        for block in self.blocks:
            x = block(x)
        return self.norm(x)[:, 1:].reshape(x.shape[0], h, w, -1)


def main():
    directory = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 448
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    files = sorted(f for f in os.listdir(directory) if f.endswith(".png"))
    pairs = [(a, b) for a in files for b in files if a != b][:n]
    model = VitS14().eval()
    preprocess = transforms.Compose([
        transforms.ToTensor(),
        transforms.Resize((size, size)),
        transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    points = torch.tensor([[60.0 + 15 * i, 100.0] for i in range(10)])
    forward_ms = match_ms = 0.0
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))  # warm-up, not timed
        t0 = time.perf_counter()
        for a, b in pairs:
            images = [Image.open(os.path.join(directory, f)).convert("RGB") for f in (a, b)]
            s = time.perf_counter()
            fa, fb = (model(preprocess(im).unsqueeze(0))[0] for im in images)
            m = time.perf_counter()
            forward_ms += (m - s) * 1000
            h, w, c = fa.shape
            width, height = images[0].size
            cols = (points[:, 0] / width * w).long().clamp(0, w - 1)
            rows = (points[:, 1] / height * h).long().clamp(0, h - 1)
            queries = F.normalize(fa[rows, cols], dim=-1)
            scores = queries @ F.normalize(fb.reshape(-1, c), dim=-1).T
            best = scores.argmax(dim=-1)
            _ = torch.stack([best % w, best // w], dim=-1)
            match_ms += (time.perf_counter() - m) * 1000
        wall = time.perf_counter() - t0
    print(json.dumps({
        "pairs": len(pairs),
        "pairs_per_s": len(pairs) / wall,
        "forward_ms": forward_ms / (2 * len(pairs)),
        "match_ms": match_ms / len(pairs),
        "wall_ms": wall * 1000,
        "threads": threads,
    }))


if __name__ == "__main__":
    main()
