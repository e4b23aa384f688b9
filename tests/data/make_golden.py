"""Writes the golden .ncz files and their expected fields (run once; the tests read the results).

    python tests/data/make_golden.py

Re-running it must not change any file unless docs/format.md changed on purpose.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ncodec.format import Header, VideoInfo, read_ncz, write_ncz

HERE = Path(__file__).parent
FP = bytes.fromhex("0badf00d")


def cases() -> dict[str, tuple[Header, np.ndarray]]:
    image = Header(bits=5, latent_dim=100, width=64, height=64, channels=3, manifold_id="faces64-z100", fingerprint=FP)
    gray = Header(
        bits=3,
        latent_dim=12,
        width=17,
        height=5,
        channels=1,
        manifold_id="tiny-gray",
        fingerprint=FP,
        no_channel_axis=True,
        sixteen_bit=True,
    )
    clip = VideoInfo(frames=10, keyframe_interval=4, fps_num=30000, fps_den=1001)
    video = Header(bits=4, latent_dim=6, width=64, height=48, channels=3, manifold_id="video64-z100", fingerprint=FP, video=clip)
    keyframes = np.array([[3, 4, 5, 6, 7, 8], [3, 4, 6, 6, 7, 9], [4, 4, 6, 6, 6, 9], [4, 4, 6, 7, 6, 9]], np.uint8)
    return {
        "image_rgb64": (image, np.arange(100, dtype=np.uint8) % 32),
        "image_gray16": (gray, (np.arange(12, dtype=np.uint8) * 5) % 8),
        "image_robust": (dataclasses.replace(image, robust=True), np.arange(100, dtype=np.uint8) % 32),
        "video_fixed": (video, keyframes),
        "video_huffman": (dataclasses.replace(video, huffman=True), keyframes),
    }


def main() -> None:
    for name, (header, indices) in cases().items():
        blob = write_ncz(header, indices)
        parsed = read_ncz(blob)
        (HERE / f"{name}.ncz").write_bytes(blob)
        expected = {
            "fields": parsed.header.fields() | {"payload_bits": parsed.payload_bits, "payload_ok": True, "file_bytes": len(blob)},
            "indices": parsed.indices.tolist(),
        }
        (HERE / f"{name}.json").write_text(json.dumps(expected, indent=1) + "\n")
        print(name, len(blob), "bytes")


if __name__ == "__main__":
    main()
