"""kodim04 (a face from outside the training sets) in three framings, through each manifold at effort 1 and 3.

python benchmarks/face_framings.py docs/img/kodim04-framings.png -m faces64-z100

Rows: the README's 128x128 demo crop; a crop framed like the faces64 (CelebA) training faces
(eye distance 0.28 of the width, eyes at 0.51 of the height); one framed tighter, like the
UTKFace chips. Prints each reconstruction's PSNR against the crop it coded.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import ncodec
from ncodec.eval.metrics import psnr

KODAK = Path(__file__).resolve().parents[2] / "shared" / "data" / "kodak" / "kodim04.png"
DEMO = Path(__file__).resolve().parents[1] / "examples" / "kodim04-face.png"
FRAMINGS = {"CelebA framing": (62, 114, 512, 564), "UTK framing": (118, 190, 468, 540)}  # boxes in the 512x768 photo
SIZE, LABEL = 128, 14


def crops(kodak: Path) -> dict[str, Image.Image]:
    """The three 128x128 framings of kodim04."""
    full = Image.open(kodak).convert("RGB")
    found = {"demo crop": Image.open(DEMO).convert("RGB")}
    found.update({name: full.crop(box) for name, box in FRAMINGS.items()})
    return {name: crop.resize((SIZE, SIZE), Image.Resampling.LANCZOS) for name, crop in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path)
    parser.add_argument("-m", "--manifold", action="append", required=True, help="one or more; two columns each")
    parser.add_argument("--kodak", type=Path, default=KODAK, help="kodim04.png of the Kodak set")
    args = parser.parse_args()

    framed = crops(args.kodak)
    sheet = Image.new("RGB", ((1 + 2 * len(args.manifold)) * SIZE, len(framed) * (SIZE + LABEL)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, (name, crop) in enumerate(framed.items()):
        top = row * (SIZE + LABEL)
        sheet.paste(crop, (0, top + LABEL))
        draw.text((2, top + 1), name, fill="black")
        reference = np.asarray(crop)
        for col, (manifold, effort) in enumerate(((m, e) for m in args.manifold for e in (1, 3)), start=1):
            decoded = ncodec.decompress(ncodec.compress(reference, manifold=manifold, effort=effort))
            score = psnr(reference, decoded)[0]
            sheet.paste(Image.fromarray(decoded), (col * SIZE, top + LABEL))
            draw.text((col * SIZE + 2, top + 1), f"{manifold[-10:]} e{effort} {score:.1f} dB", fill="black")
            print(f"{name:15s} {manifold:20s} effort {effort}: {score:.2f} dB")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
