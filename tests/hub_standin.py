"""A stand-in for the Hugging Face Hub on 127.0.0.1: the part hf_hub_download talks to.

It serves HEAD and GET on ``/{owner}/{name}/resolve/{revision}/{filename}`` with the headers
huggingface_hub 2.x reads (file_download.get_hf_file_metadata): ``X-Repo-Commit`` (the commit
the revision resolved to: the cache snapshot is named after it), ``ETag`` and ``X-Linked-Etag``
(the file's sha256, as the hub sends for LFS files: the cached blob is named after it),
``X-Linked-Size`` and ``Content-Length`` (checked against the bytes received). Errors are 404s
with the ``X-Error-Code`` that hf_raise_for_status maps to RepositoryNotFoundError,
RevisionNotFoundError and RemoteEntryNotFoundError. A revision is ``main`` (the latest commit)
or a 40-hex commit hash. Uploads are not served: push is tested with HfApi replaced (see
test_hub.py). Bounded: 5 s socket timeouts, at most MAX_REQUESTS answered, stopped by its fixture.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_REQUESTS = 500


class StandInHub:
    """Repositories of commits kept in memory; every request is logged in ``requests``."""

    def __init__(self) -> None:
        self.repos: dict[str, list[tuple[str, dict[str, bytes]]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.tampered: dict[str, bytes] = {}  # filename -> other bytes served in its place (a lying mirror)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def commit(self, repo: str, files: dict[str, bytes]) -> str:
        """Add a commit on top of the repo's latest (files are added or replaced); return its hash."""
        history = self.repos.setdefault(repo, [])
        parent, tree = history[-1] if history else ("", {})
        tree = tree | files
        oid = hashlib.sha1((parent + repo + "".join(f"{k}:{hashlib.sha256(v).hexdigest()}" for k, v in sorted(tree.items()))).encode())
        history.append((oid.hexdigest(), tree))
        return oid.hexdigest()

    def commit_folder(self, repo: str, folder: Path, names: list[str]) -> str:
        return self.commit(repo, {name: (folder / name).read_bytes() for name in names})

    def paths(self) -> list[str]:
        return [path for _, path in self.requests]

    def start(self) -> StandInHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _tree(self, repo: str, revision: str) -> tuple[str, dict[str, bytes]] | None:
        history = self.repos[repo]
        if revision == "main":
            return history[-1]
        return next((c for c in history if c[0] == revision), None)


def _handler(hub: StandInHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 5

        def do_HEAD(self) -> None:
            self._resolve(send_body=False)

        def do_GET(self) -> None:
            self._resolve(send_body=True)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _resolve(self, send_body: bool) -> None:
            hub.requests.append((self.command, self.path))
            if len(hub.requests) > MAX_REQUESTS:
                return self._reply(503, {}, b"")
            parts = urlsplit(self.path).path.split("/")
            if len(parts) < 6 or parts[3] != "resolve":
                return self._reply(404, {}, b"")
            repo, revision, filename = f"{parts[1]}/{parts[2]}", unquote(parts[4]), unquote("/".join(parts[5:]))
            if repo not in hub.repos:
                return self._reply(404, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"}, b"")
            found = hub._tree(repo, revision)
            if found is None:
                return self._reply(404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id"}, b"")
            commit, tree = found
            if filename not in tree:
                return self._reply(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, b"")
            data = hub.tampered.get(filename, tree[filename])
            sha = hashlib.sha256(data).hexdigest()
            headers = {
                "X-Repo-Commit": commit,
                "ETag": f'"{sha}"',
                "X-Linked-Etag": f'"{sha}"',
                "X-Linked-Size": str(len(data)),
                "Content-Type": "application/octet-stream",
            }
            self._reply(200, headers, data if send_body else b"", length=len(data))

        def _reply(self, status: int, headers: dict[str, str], body: bytes, length: int | None = None) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler
