#!/usr/bin/env bash
# The prepared device runs for issues 8 and 3, sized to a session's 15 minutes of device time (the
# machine's start, 1-2 min, included): two calls back to back on one warm machine.
#
# Here, once per checkout (writes the git-ignored .gpu/, with the tree under the 64 MiB a call carries):
#     tools/gpu_checks.sh prepare
# Then, from the repository root there, at once one after the other (the machine stays warm 30 s):
#     run(command="tools/gpu_checks.sh speed", carry=[".gpu/common", ".gpu/speed"], timeout_s=330)   # issue 8, ~4 min
#     run(command="tools/gpu_checks.sh train", carry=[".gpu/common", ".gpu/train"], timeout_s=480)   # issue 3, ~6.5 min
#
# speed: gpu.txt, speed-cuda.{txt,json} (benchmarks/speed.py on CUDA: fp32 and bf16, fraction of peak) and
#   api-device.txt (200 test faces through the API on the GPU against the CPU: time, PSNR, differing files).
# train: train.log and faces64-z100-gpu/ (decoder, encoder, manifold.json, CSV logs): the shipped default
#   widened to WIDTH (default 64; docs/results.md, "More steps, a lower rate, a wider decoder": at its own
#   width 32 more steps no longer help) and trained on with --init on CUDA, as its CPU rounds were. Score it here, on the CPU, as those were
#   (docs/results.md, "Training on from the previous decoder"). TRAIN_MINUTES (default 4), LR (default 2e-4)
#   and RECON_WEIGHT (default 3200) size it.
# DEVICE=cpu rehearses either call here:
#     OUT=/tmp/gpu-out DEVICE=cpu TRAIN_MINUTES=0.2 PATH=.venv/bin:$PATH tools/gpu_checks.sh train
set -euo pipefail

CARRY_LIMIT_MIB=64
MARGIN_MIB=3

if [[ "${1:-}" == prepare ]]; then
    py=python3
    [[ -x .venv/bin/python ]] && py=.venv/bin/python
    rm -rf .gpu && mkdir -p .gpu/common .gpu/speed .gpu/train
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/common "bitarray>=2.9"
    tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s += $1} END {print s}')
    # The training call: every CelebA training face, then as many UTKFace training faces (JPEG bytes as stored) as fit.
    "$py" - "$(( (CARRY_LIMIT_MIB - MARGIN_MIB) * 1048576 - tree_bytes - $(du -sb .gpu/common | cut -f1) ))" <<'PY'
import sys
import numpy as np
room = int(sys.argv[1])
celeba = np.load("../shared/data/faces64/train-000.npz")
utk = np.load("../shared/data/utkface64/train-000.npz")
blob, offsets = celeba["jpeg"], celeba["offsets"]
left = room - blob.nbytes - 8 * (len(offsets) + 1)
take = int(np.searchsorted(utk["offsets"], left, side="right")) - 1  # the UTKFace files that end within what is left
extra = utk["jpeg"][: utk["offsets"][take]]
np.savez(".gpu/train/faces-train.npz", jpeg=np.concatenate([blob, extra]),
         offsets=np.concatenate([offsets, offsets[-1] + utk["offsets"][1 : take + 1]]))
print(f".gpu/train/faces-train.npz: {len(offsets) - 1} CelebA + {take} UTKFace training faces")
PY
    # The speed call: the first 500 CelebA test faces (speed.py's precision rows take 500; its batches repeat them).
    "$py" -c "import numpy as np; np.savez_compressed('.gpu/speed/faces64-test.npz', images=np.load('../shared/data/faces64/test.npz')['images'][:500])"
    du -sh .gpu/*
    echo "tree $(( tree_bytes / 1048576 )) MiB; each call carries the tree, .gpu/common and its own folder"
    exit 0
fi

: "${OUT:?set by the device machine: the folder whose files come back}"
DEVICE=${DEVICE:-cuda}
export PYTHONUNBUFFERED=1
python3 -c "import bitarray" 2>/dev/null || python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/common/*.whl
export PYTHONPATH="/tmp/site:$PWD"
{ nvidia-smi -L || true; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } | tee "$OUT/gpu.txt"

case "${1:-}" in
speed)
    # Issue 8: H100/H200 SXM dense bf16 peak is 989 TFLOP/s.
    timeout 150 python3 benchmarks/speed.py --device "$DEVICE" --data .gpu/speed/faces64-test.npz --peak-tflops 989 \
        --json "$OUT/speed-cuda.json" 2>&1 | tee "$OUT/speed-cuda.txt" || echo "speed.py stopped: $?"

    # The API on the device against the CPU: time and PSNR of 200 test faces at NCode(100,5) effort 1, and how
    # many files and samples differ between the two.
    timeout 120 python3 - "$DEVICE" <<'PY' 2>&1 | tee "$OUT/api-device.txt" || echo "API device check stopped: $?"
import sys, time
import numpy as np
import ncodec
from ncodec.eval.metrics import psnr
images = np.load(".gpu/speed/faces64-test.npz")["images"][:200]
runs = {}
for device in dict.fromkeys([sys.argv[1], "cpu"]):
    ncodec.decompress_batch(ncodec.compress_batch(images[:2], effort=0, device=device), device=device)  # load, warm up
    start = time.perf_counter()
    blobs = ncodec.compress_batch(images, effort=1, device=device)
    encoded = time.perf_counter() - start
    start = time.perf_counter()
    out = np.stack(ncodec.decompress_batch(blobs, device=device))
    decoded = time.perf_counter() - start
    runs[device] = blobs, out
    print(f"{device}: encode effort 1 {1000 * encoded / len(images):.2f} ms/img, decode {1000 * decoded / len(images):.3f} ms/img, "
          f"PSNR {np.mean([psnr(a, b) for a, b in zip(images, out)]):.3f} dB")
(blobs_a, out_a), (blobs_b, out_b) = runs[sys.argv[1]], runs["cpu"]
print(f"files differing from the CPU's: {sum(a != b for a, b in zip(blobs_a, blobs_b))} of {len(images)}; "
      f"decoded samples differing: {int((out_a != out_b).sum())} of {out_a.size}")
PY
    ;;
train)
    # Issue 3: the default widened and trained on as its CPU rounds were (docs/manifolds.md), at many more steps
    # a minute, with an MSE-only stage 2 (the perceptual network's wheel is too large to carry beside the data).
    # The limit: TRAIN_MINUTES (whole minutes) of stage 1, then 2 more for loading, 30 s of stage 2 and export.
    TRAIN_MINUTES=${TRAIN_MINUTES:-4}
    timeout "$(( ${TRAIN_MINUTES%.*} * 60 + 120 ))" python3 -m ncodec train manifold --data .gpu/train/faces-train.npz \
        --out /tmp/gpu-run --id faces64-z100-gpu --init faces64-z100 --width "${WIDTH:-64}" \
        --description "64x64 faces (CelebA + UTKFace), 100-dim latent: the default widened, trained on on one GPU" \
        --batch-size 64 --minutes "$TRAIN_MINUTES" --recon-weight "${RECON_WEIGHT:-3200}" --lr "${LR:-2e-4}" \
        --encoder-minutes 0.5 --encoder-lr 3e-4 --perceptual-weight 0 --seed 0 --device "$DEVICE" >"$OUT/train.log" 2>&1 \
        || echo "training stopped: $?"
    tail -c 1500 "$OUT/train.log"
    mkdir -p "$OUT/faces64-z100-gpu"
    cp /tmp/gpu-run/manifolds/faces64-z100-gpu/* /tmp/gpu-run/faces64-z100-gpu/*.csv "$OUT/faces64-z100-gpu/"
    ls -l "$OUT/faces64-z100-gpu"
    ;;
*)
    echo "usage: tools/gpu_checks.sh prepare|speed|train" >&2
    exit 2
    ;;
esac
