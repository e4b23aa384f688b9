"""``ncodec manifolds``: list, inspect, fetch, verify, register and publish manifolds.

A manifold is the decoder (and encoder) network that sender and receiver both hold; .ncz files
name it by id. Ids come from the packaged weights manifest, the user's manifest
(``$NCODEC_MANIFEST``) and the local folders of ``NCODEC_MANIFOLD_PATH``. Exit status as for
the other commands (:mod:`ncodec.exitcodes`): 0 success, 3 a manifold unknown, unavailable or
not matching its pin (one line on stderr per failure), 1 other bad input, 2 usage error.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from ncodec import exitcodes, hub, locate, manifest
from ncodec.errors import ManifoldError, ManifoldNotFoundError, NczError
from ncodec.locate import Fetch
from ncodec.manifest import FILENAMES, ROLES, ManifestEntry, Role
from ncodec.manifold_config import ManifoldConfig

F = TypeVar("F", bound=Callable[..., Any])


def _errors(func: F) -> F:
    """Errors become one ``ncodec: error:`` line and their exit status (3 for a manifold that is unavailable)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (NczError, OSError) as exc:
            click.echo(f"ncodec: error: {exc}", err=True)
            sys.exit(exitcodes.for_error(exc))

    return wrapper  # type: ignore[return-value]


@contextmanager
def announce_fetches(quiet: bool = False) -> Iterator[None]:
    """Say on stderr when a manifold file is downloaded: wrap encode/decode in it."""

    def say(event: Fetch) -> None:
        if not event.done and not quiet:
            click.echo(
                f"ncodec: manifold {event.manifold_id} is not local: fetching {event.filename} "
                f"({_size(event.size)}) from {event.repo}@{event.revision[:12]}",
                err=True,
            )

    with locate.on_fetch(say):
        yield


def _offline_option(func: F) -> F:
    """``--offline``: on the group, and again on the subcommands that reach the hub, where users also put it."""

    def go_offline(ctx: click.Context, _: click.Parameter, offline: bool) -> None:
        if offline and not hub.is_offline():
            hub.set_offline(True)
            ctx.call_on_close(lambda: hub.set_offline(False))

    option = click.option("--offline", is_flag=True, expose_value=False, callback=go_offline,
                          help="Never touch the network (same as HF_HUB_OFFLINE=1).")  # fmt: skip
    return option(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@_offline_option
def manifolds() -> None:
    """List, fetch, verify and publish manifolds: the networks .ncz files are decoded with.

    \b
      ncodec manifolds list
      ncodec manifolds pull faces64-z50          # fetch once; later runs work offline
      ncodec manifolds verify                    # re-hash every local copy
      ncodec manifolds push my-z100 --repo me/my-z100
    """


@manifolds.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per manifold, one per line.")
@_errors
def list_(as_json: bool) -> None:
    """Every known manifold: id, native size, M, where it is (bundled, local, cached, remote, planned), licence."""
    rows = [_row(i) for i in _known_ids()]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo(f"{'ID':18} {'IMAGE':>9} {'M':>4}  {'STATE':22} {'SIZE':>8}  LICENSE")
    for r in rows:
        image = f"{r['image_size']}x{r['image_size']}" if r["image_size"] else "?"
        click.echo(f"{r['id']:18} {image:>9} {r['latent_dim'] or '?':>4}  {r['state']:22} {_size(r['bytes']):>8}  {r['license']}")


@manifolds.command()
@click.argument("manifold_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest entry and state as JSON.")
@_errors
def info(manifold_id: str, as_json: bool) -> None:
    """Everything known about manifold ID: manifest entry, state, and where each file is."""
    entry = manifest.lookup(manifold_id)
    if entry is None:
        folder = locate.find(manifold_id, ())
        click.echo(f"{manifold_id}: user-local, in no manifest (unpinned): {folder}")
        return
    where = {role: str(path) for _, role, path in reversed(locate.copies(entry))}
    if as_json:
        click.echo(json.dumps({"id": entry.id, "state": locate.state(entry.id), **entry.to_json(), "local_paths": where}))
        return
    hub_line = f"{entry.repo} at {entry.revision}" if entry.published else f"{entry.repo or '-'} (not published)"
    for key, value in [
        ("id", entry.id),
        ("description", entry.description),
        ("state", locate.state(entry.id)),
        (
            "architecture",
            f"{entry.arch}, {entry.image_size}x{entry.image_size}x{entry.channels}, M={entry.latent_dim}, width {entry.width}"
            + ("" if entry.encoder_width is None else f" (encoder {entry.encoder_width})"),
        ),
        ("training data", entry.training_data),
        ("license", entry.license),
        ("bundled", "yes" if entry.bundled else "no"),
        ("hub", hub_line),
    ]:
        click.echo(f"{key:14} {value}")
    for role, spec in entry.files.items():
        click.echo(f"{role:14} {spec.name} {_size(spec.size)} sha256 {spec.sha256}  {where.get(role, '(not local)')}")


@manifolds.command()
@click.argument("manifold_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--decoder-only", is_flag=True, help="Fetch what decoding needs (config + decoder), not the encoder.")
@click.option("--force", is_flag=True, help="Download again even if the cached copy verifies.")
@_offline_option
@_errors
def pull(manifold_ids: tuple[str, ...], decoder_only: bool, force: bool) -> None:
    """Fetch manifolds into the hub cache at their pinned commit, verified; repairs corrupted copies."""
    roles: list[Role] = ["config", "decoder"] if decoder_only else list(ROLES)
    failed = 0
    for manifold_id in manifold_ids:
        try:
            _pull_one(manifold_id, roles, force)
        except NczError as exc:
            click.echo(f"ncodec: error: {exc}", err=True)
            failed += 1
    if failed:
        sys.exit(exitcodes.MANIFOLD_UNAVAILABLE)


def _pull_one(manifold_id: str, roles: list[Role], force: bool) -> None:
    entry = _pinned(manifold_id)
    for source, folder in locate.local_folders(manifold_id):
        if all((folder / FILENAMES[r]).is_file() for r in roles):
            bad = [f"{FILENAMES[r]} {p}" for r in roles if (p := locate.mismatch(folder / FILENAMES[r], entry, r))]
            if bad:
                raise ManifoldError(f"{manifold_id}: the {source} copy in {folder} does not match the manifest: {'; '.join(bad)}")
            click.echo(f"{manifold_id}: {source} in {folder}, verified; nothing to fetch")
            return
    if not entry.published:
        raise ManifoldNotFoundError(f"{manifold_id}: not found locally and not published on a hub")
    assert entry.repo is not None and entry.revision is not None
    for role in roles:
        spec = entry.file(role)
        cached = hub.cached_file(entry.repo, entry.revision, spec.name)
        problem = locate.mismatch(cached, entry, role) if cached is not None else "not cached"
        if problem is None and not force:
            click.echo(f"{manifold_id}: {spec.name} cached, verified")
            continue
        with _progress(f"{manifold_id}: {spec.name}", spec.size) as progress:
            locate.fetch(entry, role, force=cached is not None, progress=progress)
        what = "repaired" if cached is not None and problem is not None else "fetched"
        click.echo(f"{manifold_id}: {spec.name} {what} ({_size(spec.size)}), verified")


@manifolds.command()
@click.argument("manifold_ids", metavar="[ID...]", nargs=-1)
@_errors
def verify(manifold_ids: tuple[str, ...]) -> None:
    """Re-hash every local copy (bundled, local folders, hub cache) against the manifest.

    Exit 3 if any differs, or if a manifold named on the command line has no local copy to verify.
    """
    ids = list(manifold_ids) or _known_ids()
    corrupted = absent = 0
    for manifold_id in ids:
        entry = manifest.lookup(manifold_id)
        if entry is None:
            locate.find(manifold_id, ())  # raises if it exists nowhere
            click.echo(f"{manifold_id}: user-local, in no manifest: nothing to verify against")
            continue
        found = locate.copies(entry)
        if not found and manifold_ids:
            absent += 1
            fetch = "no weights are published yet" if entry.planned else f"fetch it with `ncodec manifolds pull {manifold_id}`"
            click.echo(f"ncodec: error: {manifold_id}: {locate.state(manifold_id)}, no local copy to verify ({fetch})", err=True)
        elif not found:
            click.echo(f"{manifold_id}: {locate.state(manifold_id)}, no local copy")
        for source, role, path in found:
            problem = locate.mismatch(path, entry, role)
            if problem:
                corrupted += 1
                repair = "ncodec manifolds pull " + manifold_id if source == locate.CACHED else "see `ncodec manifolds info`"
                click.echo(f"{manifold_id}: {source} {FILENAMES[role]} CORRUPTED: {path} {problem} (repair: {repair})")
            else:
                click.echo(f"{manifold_id}: {source} {FILENAMES[role]} ok")
    if corrupted:
        click.echo(f"ncodec: error: {corrupted} file(s) do not match the manifest", err=True)
    if corrupted or absent:
        sys.exit(exitcodes.MANIFOLD_UNAVAILABLE)


def _entry_options(func: F) -> F:
    for option in reversed(
        [
            click.option("--manifest", "manifest_path", type=click.Path(path_type=Path), help="Manifest to write (default: the user's)."),
            click.option("--license", help="Terms of use of the weights."),
            click.option("--training-data", help="What it was trained on."),
            click.option("--description", help="One line about the manifold."),
        ]
    ):
        func = option(func)
    return func


@manifolds.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_entry_options
@click.option("--force", is_flag=True, help="Re-pin an id whose pinned files differ (old .ncz files will no longer decode).")
@_errors
def register(folder: Path, manifest_path: Path | None, force: bool, **fields: str | None) -> None:
    """Pin the manifold in FOLDER (e.g. from `ncodec train manifold`) in the user manifest."""
    target, entry = _new_entry(folder, manifest_path, force, fields)
    manifest.put(target, entry)
    click.echo(f"{entry.id}: pinned in {target}")


@manifolds.command()
@click.argument("manifold_id", metavar="ID")
@click.option("--repo", required=True, help="Hub model repository OWNER/NAME (created if missing).")
@click.option("--folder", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Manifold folder (default: found by ID).")
@click.option("--private", is_flag=True, help="Create the repository private.")
@_entry_options
@click.option("--force", is_flag=True, help="Re-pin an id whose pinned files differ (old .ncz files will no longer decode).")
@_errors
def push(
    manifold_id: str, repo: str, folder: Path | None, private: bool, manifest_path: Path | None, force: bool, **fields: str | None
) -> None:
    """Upload manifold ID to the hub and pin the new commit in the (user) manifest.

    Needs a hub token with write access (`hf auth login` or HF_TOKEN).
    """
    if not manifest.REPO_PATTERN.match(repo):
        raise click.BadParameter(f"{repo!r} is not OWNER/NAME", param_hint="--repo")
    if folder is None:
        found = locate.local_folders(manifold_id)
        if not found:
            raise ManifoldNotFoundError(f"manifold {manifold_id!r} has no local folder; pass --folder")
        folder = found[0][1]
    target, entry = _new_entry(folder, manifest_path, force, fields, repo=repo)
    if entry.id != manifold_id:
        raise ManifoldError(f"{folder} holds manifold {entry.id!r}, not {manifold_id!r}")
    commit = hub.upload(folder, repo, [FILENAMES[r] for r in ROLES], message=f"ncodec manifold {entry.id}", private=private or None)
    if not manifest.COMMIT_PATTERN.match(commit):
        raise ManifoldError(f"the hub answered commit {commit!r}, not a 40-hex hash: nothing pinned")
    entry = replace(entry, repo=repo, revision=commit)
    manifest.put(target, entry)
    click.echo(f"{entry.id}: pushed to {repo} at {commit}; pinned in {target}")


def _new_entry(
    folder: Path, manifest_path: Path | None, force: bool, fields: dict[str, str | None], **more: Any
) -> tuple[Path, ManifestEntry]:
    """The entry pinning FOLDER's files, and the manifest it goes to; refuses to silently re-pin an id."""
    target = manifest_path or manifest.user_manifest_path()
    existing = manifest.load(target, missing_ok=True)
    config_id = ManifoldConfig.load(folder).id  # a folder without a readable manifold.json is refused here
    if target.resolve() != manifest.PACKAGED.resolve() and config_id in manifest.packaged():
        raise ManifoldError(f"{config_id!r} is an id of the packaged manifest; give your manifold its own id")
    base = existing.get(config_id)
    entry = manifest.entry_from_folder(folder, base, **{k: v for k, v in fields.items() if v is not None}, **more)
    if base is not None and base.files and base.files != entry.files and not force:
        raise ManifoldError(
            f"{entry.id!r} is already pinned in {target} with other files: an id names fixed weights "
            "(files coded with the old ones would stop decoding); use a new id, or --force"
        )
    return target, entry


@contextmanager
def _progress(label: str, size: int) -> Iterator[hub.Progress | None]:
    """A byte progress bar on stderr when it is a terminal; nothing in logs and pipes."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=size, label=label, file=sys.stderr) as bar:
        yield lambda done, total: bar.update(done - bar.pos)


def _pinned(manifold_id: str) -> ManifestEntry:
    entry = manifest.lookup(manifold_id)
    if entry is None:
        locate.find(manifold_id, ())  # a clear "not found" if it is nowhere
        raise ManifoldError(f"{manifold_id}: user-local, in no manifest: nothing to fetch it from")
    if entry.planned:
        raise ManifoldNotFoundError(f"{manifold_id}: planned, no weights published yet")
    return entry


def _known_ids() -> list[str]:
    """Manifest ids first (packaged, then user), then user-local folders no manifest names."""
    from ncodec.manifolds import available

    known = list(manifest.entries())
    return known + [i for i in available() if i not in known]


def _row(manifold_id: str) -> dict[str, Any]:
    entry = manifest.lookup(manifold_id)
    if entry is None:
        from ncodec.manifold_config import ManifoldConfig

        folder = locate.local_folders(manifold_id)[0][1]
        try:
            config = ManifoldConfig.load(folder)
            size, m = config.image_size, config.latent_dim
        except ManifoldError:
            size = m = 0
        weights = sum((folder / FILENAMES[r]).stat().st_size for r in ("decoder", "encoder") if (folder / FILENAMES[r]).is_file())
        return {"id": manifold_id, "image_size": size, "latent_dim": m, "state": locate.state(manifold_id), "bytes": weights,
                "license": "-", "bundled": False, "repo": None, "revision": None}  # fmt: skip
    return {
        "id": entry.id,
        "image_size": entry.image_size,
        "latent_dim": entry.latent_dim,
        "state": locate.state(entry.id),
        "bytes": entry.weights_size() if entry.files else None,
        "license": entry.license,
        "bundled": entry.bundled,
        "repo": entry.repo,
        "revision": entry.revision,
    }


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value, units = float(n), ["B", "kB", "MB", "GB"]
    while value >= 1000 and len(units) > 1:
        value, units = value / 1000, units[1:]
    return f"{n} B" if units[0] == "B" else f"{value:.1f} {units[0]}"
