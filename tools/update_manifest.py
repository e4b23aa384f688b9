"""Pin manifolds in the packaged weights_manifest.json: sha256 and size of every file, hyper-parameters
from manifold.json. Run it after dropping new weights into ncodec/weights/ID/ (or publishing them).

    python tools/update_manifest.py                      # every folder in ncodec/weights/
    python tools/update_manifest.py faces64-z100         # one bundled manifold
    python tools/update_manifest.py faces64-z50 --folder runs/faces64-z50/manifold --revision COMMIT
    python tools/update_manifest.py --check              # exit 1 if the manifest is stale; writes nothing

Description, training data, licence and hub repo are kept from the existing entry (or set with
the options). A recorded hub revision is dropped when the files change: that commit holds other
bytes. ``ncodec manifolds push ID --repo OWNER/NAME --manifest ncodec/weights_manifest.json``
uploads a manifold and records the commit in one step.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ncodec import manifest
from ncodec.errors import NczError
from ncodec.locate import BUNDLED_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ids", nargs="*", metavar="ID", help="manifold ids (default: every folder in ncodec/weights/)")
    parser.add_argument("--folder", type=Path, help="take the files from this folder instead of ncodec/weights/ID (one ID)")
    parser.add_argument("--manifest", type=Path, default=manifest.PACKAGED, help="manifest to update (default: the packaged one)")
    parser.add_argument("--revision", help="hub commit (40 hex) that holds exactly these files")
    parser.add_argument("--repo", help="hub repository OWNER/NAME")
    parser.add_argument("--license", help="licence of the weights")
    parser.add_argument("--training-data", help="what the manifold was trained on")
    parser.add_argument("--check", action="store_true", help="only report whether the manifest matches the files")
    args = parser.parse_args(argv)
    ids = args.ids or sorted(p.parent.name for p in BUNDLED_DIR.glob("*/manifold.json"))
    if args.folder and len(ids) != 1:
        parser.error("--folder takes exactly one ID")
    overrides = {k: v for k, v in {"revision": args.revision, "repo": args.repo, "license": args.license,
                                   "training_data": args.training_data}.items() if v is not None}  # fmt: skip
    try:
        current = manifest.load(args.manifest, missing_ok=True)
        updated = dict(current)
        for manifold_id in ids:
            folder = args.folder or BUNDLED_DIR / manifold_id
            bundled = folder.resolve().parent == BUNDLED_DIR.resolve()
            entry = manifest.entry_from_folder(folder, current.get(manifold_id), bundled=bundled, **overrides)
            if entry.id != manifold_id:
                raise SystemExit(f"{folder}/manifold.json declares id {entry.id!r}, not {manifold_id!r}")
            updated[manifold_id] = entry
            print(f"{manifold_id}: {_change(current.get(manifold_id), entry)}")
        if args.check:
            stale = [k for k in ids if current.get(k) != updated[k]]
            if stale:
                print(f"stale entries in {args.manifest}: {', '.join(stale)}; run python tools/update_manifest.py {' '.join(stale)}")
                return 1
            return 0
        manifest.save(args.manifest, updated)
    except NczError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _change(old: manifest.ManifestEntry | None, new: manifest.ManifestEntry) -> str:
    if old is None:
        return "new entry"
    if old == new:
        return "unchanged"
    if old.files != new.files:
        return "files re-pinned" + ("" if new.revision or not old.revision else " (hub revision dropped: push again)")
    return "updated " + ", ".join(k for k in ("status", "bundled", "repo", "revision", "license", "training_data") if
                                  getattr(old, k) != getattr(new, k))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
