"""Independent re-implementation of the official protocol, to check the service.

A ONE-OFF check run by hand (not by CI, not part of the product). It reads
what `dump_protocol_outputs.ts` dumped (the service's default-option pair
listings and evaluations, on synthetic trees in the original layouts and on
the shared data) and recomputes everything the way the survey's official
code does (Visual-AI/Semantic-Correspondence: `dataset/pfwillow.py`,
`dataset/pfpascal.py`, `dataset/spair.py`, `dataset/ap10k.py`,
`dataset/dataset.py` `__getitem__`, `utils/geometry_data.py`,
`utils/evaluator.py`), in PyTorch float32 as it runs:

- PF-WILLOW: `test_pairs.csv` rows in order, keypoints `.float().floor()`,
  the box of the floored keypoints as `bbox`;
- PF-PASCAL: `<split>_pairs.csv`, keypoints from
  `Annotations/<class>/<name>.mat` `kps` `.float().floor()`, rows finite in
  both images; threshold `img`, i.e. S;
- SPair-71k: `Layout/large/test.txt` in order, keypoints as stored, `bbox`;
- AP-10K: for each of the 47 species in order, `sorted(glob(
  PairAnnotation/test/*:<species>.json))`, keypoints with visibility 2 in
  both images, `bbox` `[x, y, x + w, y + h]`;
- then: the first 20 keypoints (`F.pad` with a negative pad crops),
  `scaling_coordinates` into the S x S square, the threshold from the mapped
  box (before the clamp), `regularize_coordinates(eps=1e-4)`, and
  `calculate_pck` with `<=` (per image: mean over a pair's points, then over
  pairs; per point: over all points).

Two documented fallbacks of the service are applied where the official code
cannot run at all: the shared PF-WILLOW has no `test_pairs.csv`, so its rows
are built from the `.mat` files (every ordered pair within a class, the set
the csv lists) and compared as a set; the shared PF-PASCAL has no `.mat`
files, so the csv's inline keypoints are used (floored the same way).

Checks, per dataset: pair ids and order, keypoints (exact), official-frame
ground truth and query points (1e-4 px), thresholds in both frames (1e-4),
and PCK re-scored from the returned predictions against the reported values
(1e-6). Exit status 0 when everything passes.

    apt-get install -y python3-torch python3-scipy python3-pil
    deno run -A tests/reference/dump_protocol_outputs.ts /tmp/protocol_ref
    /usr/bin/python3 tests/reference/official_protocol_reference.py /tmp/protocol_ref
"""

import csv
import glob
import json
import os
import sys

import numpy as np
import scipy.io as sio
import torch
from PIL import Image

VOC = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
       "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
       "train", "tvmonitor"]
AP10K = ["alouatta", "antelope", "beaver", "bison", "bobcat", "brown bear", "buffalo", "cat",
         "cheetah", "chimpanzee", "cow", "deer", "dog", "elephant", "fox", "giraffe", "gorilla",
         "hamster", "hippo", "horse", "jaguar", "leopard", "lion", "marmot", "monkey", "moose",
         "mouse", "noisy night monkey", "otter", "panda", "panther", "pig", "polar bear", "rabbit",
         "raccoon", "rat", "rhino", "sheep", "skunk", "snow leopard", "spider monkey", "squirrel",
         "tiger", "uakari", "weasel", "wolf", "zebra"]
MAX_PTS = 20
POINT_TOL = 1e-4
PCK_TOL = 1e-6


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def image_hw(path):
    """(H, W) of an image on disk, or None."""
    if not os.path.exists(path):
        return None
    w, h = Image.open(path).size
    return (h, w)


def scaling(coord, src_hw, trg_hw):
    """scaling_coordinates(..., mode='align_corner') on (N, 2) x, y."""
    src = torch.tensor(src_hw).flip(-1)
    trg = torch.tensor(trg_hw).flip(-1)
    return coord / (src - 1) * (trg - 1)


def regularize(coord, hw, eps=1e-4):
    """regularize_coordinates: clamp to [eps, size - 1 - eps]."""
    size = torch.tensor(hw).flip(-1) - 1
    return torch.clamp(coord, min=torch.full_like(coord, eps), max=size - eps).to(coord)


def pair(pair_id, category, src_kps, trg_kps, src_hw, trg_hw, trg_box, thres):
    """One pair as the official loader holds it, before the resize."""
    return {"pair_id": pair_id, "category": category, "src": src_kps[:MAX_PTS],
            "trg": trg_kps[:MAX_PTS], "src_hw": src_hw, "trg_hw": trg_hw, "box": trg_box,
            "thres": thres}


def pfwillow(root, listing):
    out = []
    path = os.path.join(root, "test_pairs.csv")
    if os.path.exists(path):
        with open(path) as f:
            rows = list(csv.reader(f))[1:]
        note = "test_pairs.csv"
    else:
        # No csv here: the rows it would hold, built from the .mat files, in the listing's order.
        rows = []
        for p in listing["pairs"]:
            a = sio.loadmat(os.path.join(root, p["source"][:-4] + ".mat"))["pts_coord"]
            b = sio.loadmat(os.path.join(root, p["target"][:-4] + ".mat"))["pts_coord"]
            rows.append([p["source"], p["target"], *a[0], *a[1], *b[0], *b[1]])
        note = "no test_pairs.csv: rows from the .mat files"
    for r in rows:
        vals = np.array([float(v) for v in r[2:]], dtype=np.float64)
        src = torch.from_numpy(vals[None, 0:20]).float().floor().view(-1, 2, 10).permute(0, 2, 1)[0]
        trg = torch.from_numpy(vals[None, 20:40]).float().floor().view(-1, 2, 10).permute(0, 2, 1)[0]
        cls = r[0].split("/")[1]
        box = torch.cat([trg.min(0).values, trg.max(0).values])
        out.append(pair(f"{cls}/{stem(r[0])}-{stem(r[1])}", cls, src, trg,
                        image_hw(os.path.join(root, r[0])), image_hw(os.path.join(root, r[1])),
                        box, "bbox"))
    return out, note


def pfpascal(root, listing):
    path = os.path.join(root, "test_pairs.csv")
    note = "test_pairs.csv"
    if not os.path.exists(path):
        path = os.path.join(root, "image_pairs", "test_pairs.csv")
        note = "image_pairs/test_pairs.csv (NC-Net layout)"
    with open(path) as f:
        rows = list(csv.DictReader(f))
    out, fallback = [], 0
    for r in rows:
        cls = VOC[int(r["class"]) - 1]
        s, t = os.path.basename(r["source_image"]), os.path.basename(r["target_image"])
        ann = os.path.join(root, "PF-dataset-PASCAL", "Annotations", cls)
        sm, tm = os.path.join(ann, s[:-4] + ".mat"), os.path.join(ann, t[:-4] + ".mat")
        if os.path.exists(sm) and os.path.exists(tm):
            src = torch.from_numpy(sio.loadmat(sm)["kps"]).float().floor()
            trg = torch.from_numpy(sio.loadmat(tm)["kps"]).float().floor()
            valid = torch.isfinite(src).all(dim=1) & torch.isfinite(trg).all(dim=1)
            src, trg = src[valid], trg[valid]
        else:
            fallback += 1
            xs = lambda k: np.array([float(v) for v in r[k].split(";")], dtype=np.float64)
            src = torch.from_numpy(np.stack([xs("XA"), xs("YA")], -1)).float().floor()
            trg = torch.from_numpy(np.stack([xs("XB"), xs("YB")], -1)).float().floor()
        img = os.path.join(root, "PF-dataset-PASCAL", "JPEGImages")
        out.append(pair(f"{cls}/{s[:-4]}-{t[:-4]}", cls, src, trg, image_hw(os.path.join(img, s)),
                        image_hw(os.path.join(img, t)), None, "img"))
    if fallback:
        note += f"; {fallback} pairs without both .mat files: inline keypoints"
    return out, note


def spair(root, _listing):
    out = []
    with open(os.path.join(root, "Layout", "large", "test.txt")) as f:
        ids = f.read().strip().split("\n")
    for i in ids:
        with open(glob.glob(os.path.join(root, "PairAnnotation", "test", f"{i}.json"))[0]) as f:
            a = json.load(f)
        out.append(pair(i, a["category"], torch.tensor(a["src_kps"]).float(),
                        torch.tensor(a["trg_kps"]).float(), tuple(a["src_imsize"][1::-1]),
                        tuple(a["trg_imsize"][1::-1]), torch.tensor(a["trg_bndbox"]).float(),
                        "bbox"))
    return out, "Layout/large/test.txt"


def ap10k(root, _listing):
    out = []
    for cat in AP10K:
        for path in sorted(glob.glob(os.path.join(root, "PairAnnotation", "test", f"*:{cat}.json"))):
            with open(path) as f:
                p = json.load(f)
            files = []
            for key in ("src_json_path", "trg_json_path"):
                rel = p[key][p[key].index("ImageAnnotation"):]
                with open(os.path.join(root, rel)) as f:
                    files.append(json.load(f))
            kv = [torch.tensor(x["keypoints"]).view(-1, 3).float().split(2, dim=-1) for x in files]
            both = (kv[0][1].squeeze() == 2.) & (kv[1][1].squeeze() == 2.)
            x, y, w, h = files[1]["bbox"]
            out.append(pair(os.path.basename(path)[:-5], cat, kv[0][0][both], kv[1][0][both],
                            (files[0]["height"], files[0]["width"]),
                            (files[1]["height"], files[1]["width"]),
                            torch.tensor([x, y, x + w, y + h], dtype=torch.float32), "bbox"))
    return out, "PairAnnotation/test, official species order"


LOADERS = {"pfwillow": pfwillow, "pfpascal": pfpascal, "spair": spair, "ap10k": ap10k}


def official_frame(p, S):
    """Ground truth, query and threshold in the S x S square, as __getitem__ builds them."""
    out = {}
    if p["trg_hw"] is None:
        return None
    out["trg"] = regularize(scaling(p["trg"], p["trg_hw"], (S, S)), (S, S))
    if p["src_hw"] is not None:
        out["src"] = regularize(scaling(p["src"], p["src_hw"], (S, S)), (S, S))
    if p["thres"] == "img":
        out["thres"] = float(S)
    else:
        b = scaling(p["box"].view(2, 2), p["trg_hw"], (S, S)).view(4)
        out["thres"] = max(b[2] - b[0], b[3] - b[1]).item()
    return out


def original_threshold(p):
    if p["thres"] == "img":
        return None if p["trg_hw"] is None else float(max(p["trg_hw"]))
    b = p["box"]
    return max(b[2] - b[0], b[3] - b[1]).item()


def check_dataset(name, entry, S, alphas):
    ok = True
    listing = entry["listing"]
    if entry["status"] != 200:
        print(f"  {name}: no listing ({entry['status']}: {listing['error']['message'][:120]})")
        return True
    ref, note = LOADERS[name](entry["root"], listing)
    svc = listing["pairs"]
    ids, ref_ids = [p["pair_id"] for p in svc], [p["pair_id"] for p in ref]
    ordered = ids == ref_ids
    same_set = sorted(ids) == sorted(ref_ids)
    by_id = {p["pair_id"]: p for p in ref}
    worst = {"kps": 0.0, "official": 0.0, "query": 0.0, "thres_official": 0.0, "thres_original": 0.0}
    counts = {"pairs": len(svc), "points": 0}
    for p in svc:
        r = by_id.get(p["pair_id"])
        if r is None:
            continue
        counts["points"] += len(p["target_kps"])
        for key, mine in (("source_kps", r["src"]), ("target_kps", r["trg"])):
            if len(p[key]) != len(mine):
                ok = False
                worst["kps"] = float("inf")
            else:
                d = np.abs(np.asarray(p[key], dtype=np.float64) - mine.double().numpy())
                worst["kps"] = max(worst["kps"], float(d.max(initial=0)))
        o = official_frame(r, S)
        if o is not None and p["frames"]["official"] is not None:
            d = np.abs(np.asarray(p["frames"]["official"]["target_kps"]) - o["trg"].double().numpy())
            worst["official"] = max(worst["official"], float(d.max(initial=0)))
            worst["thres_official"] = max(
                worst["thres_official"], abs(p["frames"]["official"]["threshold"] - o["thres"]))
            if "src" in o:
                q = scaling(torch.tensor(p["query"], dtype=torch.float64), r["src_hw"], (S, S))
                d = np.abs(q.numpy() - o["src"].double().numpy())
                worst["query"] = max(worst["query"], float(d.max(initial=0)))
        t = original_threshold(r)
        if t is not None:
            worst["thres_original"] = max(
                worst["thres_original"], abs(p["frames"]["original"]["threshold"] - t))
    ok &= same_set and (ordered or note.startswith("no test_pairs"))
    ok &= worst["kps"] == 0.0 and max(worst["official"], worst["query"]) <= POINT_TOL
    ok &= max(worst["thres_official"], worst["thres_original"]) <= POINT_TOL
    print(f"  {name}: {counts['pairs']} pairs, {counts['points']} points ({note}); "
          f"ids {'same order' if ordered else 'same set' if same_set else 'DIFFER'}; "
          f"non_official {listing['non_official']}")
    print(f"    max |diff|: keypoints {worst['kps']:.1e}, official-frame truth "
          f"{worst['official']:.1e} px, queries {worst['query']:.1e} px, thresholds official "
          f"{worst['thres_official']:.1e} / original {worst['thres_original']:.1e}")
    ev = entry.get("evaluation")
    if ev is None:
        return ok
    preds = {p["pair_id"]: torch.tensor(p["pred"], dtype=torch.float32) for p in ev["predictions"]}
    for frame in ("official", "original"):
        per_image = {a: [] for a in alphas}
        per_point = {a: [] for a in alphas}
        for p in svc:
            r = by_id[p["pair_id"]]
            pred = preds[p["pair_id"]]
            if frame == "official":
                o = official_frame(r, S)
                diff = torch.norm(o["trg"] - scaling(pred, r["trg_hw"], (S, S)), dim=-1)
                thres = o["thres"]
            else:
                diff = torch.norm(r["trg"].double() - pred.double(), dim=-1)
                thres = original_threshold(r)
            for a in alphas:
                correct = (diff <= a * thres).float()
                per_image[a].append(correct.mean().item())
                per_point[a].extend(correct.tolist())
        block = ev["frames"][frame]
        gaps = []
        for a in alphas:
            gaps.append(abs(block["per_image"]["all"][str(a)] - float(np.mean(per_image[a]))))
            gaps.append(abs(block["per_point"]["all"][str(a)] - float(np.mean(per_point[a]))))
        ok &= max(gaps) <= PCK_TOL
        shown = ", ".join(f"@{a} {100 * np.mean(per_image[a]):.2f}" for a in alphas)
        print(f"    {frame:8s} PCK per image re-scored {shown}; max |diff| to the service's "
              f"per-image and per-point PCK {max(gaps):.1e}")
    return ok


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(os.path.join(sys.argv[1], "protocol_outputs.json")) as f:
        dump = json.load(f)
    ok = True
    for name in ("synthetic", "shared"):
        s = dump[name]
        print(f"== {name} roots (S = {s['resolution']}) ==")
        for dataset, entry in s["datasets"].items():
            ok &= check_dataset(dataset, entry, s["resolution"], dump["alphas"])
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
