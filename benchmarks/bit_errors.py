"""Bit errors: ncodec (payload only; whole file, plain and --robust) beside JPEG and JPEG 2000.

    python benchmarks/bit_errors.py --n 100 --trials 5

Every file goes through the same seeded binary symmetric channel (ncodec.channel.bsc).
For each bit error rate: the share of files that still decode, and the mean PSNR of
those that do (against the original image). A file that raises, or that a decoder
returns at the wrong size, counts as failed.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import ncodec
from ncodec.channel import bsc
from ncodec.eval.metrics import psnr

Decoder = Callable[[bytes], np.ndarray]


def _pillow_decode(blob: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(blob)) as im:
        return np.asarray(im.convert("RGB"))


def _pillow_encode(image: np.ndarray, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **options)
    return buf.getvalue()


def _ncodec_decode(blob: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ncodec.PayloadDamagedWarning)
        return np.asarray(ncodec.decompress(blob))


def _flip_payload(blob: bytes, ber: float, rng: np.random.Generator) -> bytes:
    head = len(ncodec.read_ncz(blob).header.prefix())
    return blob[:head] + bsc(blob[head:], ber, rng)


def _measure(
    originals: np.ndarray, blobs: list[bytes], decode: Decoder, channel: Callable[[bytes], bytes], trials: int
) -> dict[str, float]:
    ok, scores = 0, []
    for _ in range(trials):
        for original, blob in zip(originals, blobs, strict=True):
            try:
                out = decode(channel(blob))
            except Exception:  # a broken file is the outcome being counted, whatever the decoder raises
                continue
            if out.shape != original.shape:
                continue
            ok += 1
            scores.append(float(np.minimum(psnr(original, out)[0], 100.0)))
    return {"decoded": ok / (trials * len(blobs)), "psnr": float(np.mean(scores)) if scores else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces64/test.npz"))
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--trials", type=int, default=5, help="channel draws per file and rate")
    parser.add_argument("--rates", type=float, nargs="+", default=[1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    images = np.load(args.data)["images"][: args.n]
    plain = ncodec.compress_batch(images, effort=1)
    robust = ncodec.compress_batch(images, effort=1, robust=True)
    codecs: dict[str, tuple[list[bytes], Decoder, bool]] = {
        "ncodec, payload bits only": (plain, _ncodec_decode, True),
        "ncodec, whole file": (plain, _ncodec_decode, False),
        "ncodec --robust, whole file": (robust, _ncodec_decode, False),
        "JPEG q=50, whole file": ([_pillow_encode(i, "JPEG", quality=50) for i in images], _pillow_decode, False),
        "JPEG 2000 rate 24, whole file": (
            [_pillow_encode(i, "JPEG2000", quality_mode="rates", quality_layers=[24], irreversible=True) for i in images],
            _pillow_decode,
            False,
        ),
    }
    rows = []
    for name, (blobs, decode, payload_only) in codecs.items():
        size = float(np.mean([len(b) for b in blobs]))
        for ber in [0.0, *args.rates]:
            rng = np.random.default_rng([args.seed, int(ber * 1e6)])
            channel = (lambda b, r=rng, e=ber: _flip_payload(b, e, r)) if payload_only else (lambda b, r=rng, e=ber: bsc(b, e, r))
            rows.append(
                {"codec": name, "bytes": size, "ber": ber, **_measure(images, blobs, decode, channel, 1 if ber == 0 else args.trials)}
            )

    print(f"{len(images)} images of {args.data}, {args.trials} channel draws each, seed {args.seed}; {platform.machine()}")
    print("| codec | mean bytes | BER | decoded | mean PSNR dB (decoded files) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['codec']} | {r['bytes']:.0f} | {r['ber']:g} | {100 * r['decoded']:.1f}% | {r['psnr']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
