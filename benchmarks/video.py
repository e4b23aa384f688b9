"""MCode beside H.264 on held-out clips: bitrate, frame PSNR and SSIM (the paper's Figure 5 table).

    python benchmarks/video.py --json results/video.json --strip docs/img/video-strip.png

MCode runs at keyframe intervals N = 1, 2, 4, 8, fixed-width and Huffman (same indices, so
the same frames), with linear interpolation and, for comparison, spherical. H.264 is libx264
through PyAV (the [video] extra): CRF 51 (its lowest quality) and two-pass runs whose target is
MCode's fixed-width whole-file bitrate at each N. Bitrates are kbit/s at the clip's frame rate:
"payload" is MCode's coded latents or H.264's bitstream (packets + SPS/PPS), "file" the whole
.ncz or .mp4. Frame PSNR/SSIM are averaged over all frames of all clips. Last, MCode's
encode and decode time per frame at each N, in this process.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import platform
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image, ImageDraw

import ncodec
from ncodec.eval.metrics import psnr, ssim
from ncodec.format import read_ncz, write_ncz

WEIZMANN_FPS = Fraction(25)  # the source is 50 fields/s deinterlaced to 25 frames/s; the strips record no rate


@dataclass
class Coded:
    frames: np.ndarray
    payload_bytes: float
    file_bytes: int


def h264(clip: np.ndarray, fps: Fraction, options: dict[str, str], bit_rate: int | None = None) -> Coded:
    """One libx264 run into an in-memory .mp4, decoded back."""
    buffer, packets = io.BytesIO(), 0
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = clip.shape[2], clip.shape[1], "yuv420p"
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        stream.options = {"preset": "slow", **options}
        for frame in [*clip, None]:
            for packet in stream.encode(None if frame is None else av.VideoFrame.from_ndarray(frame, format="rgb24")):
                packets += packet.size
                container.mux(packet)
        packets += len(stream.codec_context.extradata or b"")
    data = buffer.getvalue()
    with av.open(io.BytesIO(data)) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return Coded(decoded, packets, len(data))


def h264_two_pass(clip: np.ndarray, fps: Fraction, kbps: float) -> tuple[Coded, float]:
    """Two-pass libx264 at ``kbps``; x264 refuses a second pass below its estimated minimum, so a
    refused target is raised by 10% steps until it accepts. Returns the run and the target used."""
    while True:
        with tempfile.TemporaryDirectory() as tmp:
            stats = f"{tmp}/x264.stats"
            h264(clip, fps, {"x264-params": f"pass=1:stats={stats}"}, round(kbps * 1000))
            try:
                return h264(clip, fps, {"x264-params": f"pass=2:stats={stats}"}, round(kbps * 1000)), kbps
            except av.ExternalError:
                kbps *= 1.1


def load_clips(path: Path, mirrored: bool, limit: int | None) -> list[np.ndarray]:
    with np.load(path) as data:
        offsets, frames, flipped = data["offsets"], data["frames"], data["flipped"]
    clips = [frames[a:b] for k, (a, b) in enumerate(itertools.pairwise(offsets)) if mirrored or not flipped[k]]
    return clips[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/video/weizmann64/test.npz"))
    parser.add_argument("--mirrored", action="store_true", help="also the mirrored copies of the test clips")
    parser.add_argument("--clips", type=int, help="first N clips only")
    parser.add_argument("--manifold", default=ncodec.DEFAULT_VIDEO_MANIFOLD)
    parser.add_argument("--intervals", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--bits", type=int, default=ncodec.DEFAULT_BITS)
    parser.add_argument("--effort", type=int, default=ncodec.DEFAULT_EFFORT)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--strip", type=Path, help="write original / H.264 / MCode frames of the first clip here")
    args = parser.parse_args()

    clips = load_clips(args.data, args.mirrored, args.clips)
    fps = WEIZMANN_FPS
    frames = sum(len(c) for c in clips)
    seconds = frames / float(fps)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    firsts: dict[str, np.ndarray] = {}
    timing: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))  # seconds spent per N
    start = time.perf_counter()

    def add(name: str, clip: np.ndarray, coded: Coded) -> None:
        row = sums[name]
        row["payload_bits"] += 8 * coded.payload_bytes
        row["file_bits"] += 8 * coded.file_bytes
        row["psnr"] += float(psnr(clip, coded.frames).sum())
        row["ssim"] += float(ssim(clip, coded.frames).sum())
        row["frames"] += len(clip)
        firsts.setdefault(name, coded.frames)

    for clip in clips:
        fixed_kbps = {}
        for n in args.intervals:
            began = time.perf_counter()
            blob = ncodec.compress_video(clip, manifold=args.manifold, keyframe_interval=n, bits=args.bits, fps=fps, effort=args.effort)
            coded = time.perf_counter()
            decoded = ncodec.decompress_video(blob)
            timing[n]["encode"] += coded - began
            timing[n]["decode"] += time.perf_counter() - coded
            parsed = read_ncz(blob)
            huffman = write_ncz(replace(parsed.header, huffman=True), parsed.indices)  # what --huffman writes: same indices
            add(f"MCode N={n}", clip, Coded(decoded, parsed.payload_bits / 8, len(blob)))
            add(f"MCode N={n} Huffman", clip, Coded(decoded, read_ncz(huffman).payload_bits / 8, len(huffman)))
            add(f"MCode N={n} slerp", clip, Coded(ncodec.decompress_video(blob, interpolation="slerp"), parsed.payload_bits / 8, len(blob)))
            fixed_kbps[n] = 8 * len(blob) / (len(clip) / float(fps)) / 1000
        add("H.264 CRF 51", clip, h264(clip, fps, {"crf": "51"}))
        for n, kbps in fixed_kbps.items():
            coded, used = h264_two_pass(clip, fps, kbps)
            add(f"H.264 2-pass at MCode N={n}", clip, coded)
            sums[f"H.264 2-pass at MCode N={n}"]["raised"] += used > kbps

    rows = [
        {
            "codec": name,
            "payload_kbps": s["payload_bits"] / seconds / 1000,
            "file_kbps": s["file_bits"] / seconds / 1000,
            "psnr": s["psnr"] / s["frames"],
            "ssim": s["ssim"] / s["frames"],
            "clips_with_target_raised": int(s["raised"]),
        }
        for name, s in sums.items()
    ]
    took = time.perf_counter() - start
    print(f"{len(clips)} clips, {frames} frames at {float(fps):g} fps, manifold {args.manifold}, b={args.bits}, "
          f"effort {args.effort}; {took:.0f} s on {platform.machine()} ({platform.processor() or 'cpu'})\n")  # fmt: skip
    print("| codec | payload kbit/s | file kbit/s | PSNR dB | SSIM |\n|---|---:|---:|---:|---:|")
    for r in rows:
        raised = f" (target raised to x264's minimum on {r['clips_with_target_raised']} clips)" if r["clips_with_target_raised"] else ""
        print(f"| {r['codec']}{raised} | {r['payload_kbps']:.2f} | {r['file_kbps']:.2f} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
    for n in args.intervals:
        fixed, huff = sums[f"MCode N={n}"]["payload_bits"], sums[f"MCode N={n} Huffman"]["payload_bits"]
        print(f"\nN={n}: Huffman payload is {100 * (1 - huff / fixed):.1f}% smaller than fixed-width", end="")
    print()
    speed = {n: {k: 1000 * v / frames for k, v in t.items()} for n, t in timing.items()}
    for n, ms in speed.items():
        print(f"N={n}: encode {ms['encode']:.1f} ms/frame, decode {ms['decode']:.2f} ms/frame ({torch.get_num_threads()} torch threads)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"clips": len(clips), "seconds": seconds, "rows": rows, "ms_per_frame": speed}, indent=1))
    if args.strip:
        n = 4 if 4 in args.intervals else args.intervals[0]
        versions = [("original", clips[0]), ("H.264 CRF 51", firsts["H.264 CRF 51"]), (f"MCode N={n}", firsts[f"MCode N={n}"])]
        _strip(clips[0], versions, args.strip)


def _strip(clip: np.ndarray, rows: list[tuple[str, np.ndarray]], path: Path, every: int = 3, count: int = 8, scale: int = 2) -> None:
    """Frames 0, every, 2*every, ... of each version, one version per row, labelled on the left."""
    size, label = clip.shape[1] * scale, 110
    picture = Image.new("RGB", (label + count * size, len(rows) * size), "white")
    draw = ImageDraw.Draw(picture)
    for r, (name, frames) in enumerate(rows):
        draw.text((4, r * size + size // 2 - 6), name, fill="black")
        for c in range(count):
            frame = Image.fromarray(frames[min(c * every, len(frames) - 1)]).resize((size, size), Image.Resampling.NEAREST)
            picture.paste(frame, (label + c * size, r * size))
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)


if __name__ == "__main__":
    main()
