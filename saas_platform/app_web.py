"""The family app's web build (mobile/, `expo export --platform web`) for the demo, the browser
journey (tests/mobile) and store screenshots (branded_apps).

``web_export()`` builds mobile/dist-web once per set of inputs (a hash of the app's sources,
config and lockfile is kept beside the build, so an unchanged app is never rebuilt: the export
takes minutes on a small machine). ``serve()`` serves a build over HTTP and writes the runtime
settings into its index.html (``window.__FAMILY_APP__``: the platform's address and, to stand in
for a branded build, one business), so one build serves any server."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "mobile"
DIST = APP / "dist-web"
STAMP = ".input-hash"
INPUTS = ("src", "index.ts", "app.config.ts", "package-lock.json", "babel.config.js")


def inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = APP / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(APP)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def web_export(*, force: bool = False, timeout: int = 1200) -> Path:
    """mobile/dist-web, built unless a build of the same inputs is already there.

    Processes that want the build at the same time (test workers, a demo beside a test run)
    take turns on a lock file: the first builds, the others then find its stamp and use it,
    instead of exporting into the same folder at once."""
    wanted = inputs_hash()
    stamp = DIST / STAMP
    with open(APP / ".dist-web.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and stamp.exists() and stamp.read_text() == wanted:
            return DIST
        env = {**os.environ, "EXPO_OFFLINE": "1", "CI": "1"}
        env.pop("APP_PLATFORM_URL", None)  # the address comes at run time, from serve()
        expo = str(APP / "node_modules/.bin/expo")
        subprocess.run(  # noqa: S603 - a fixed command
            [expo, "export", "--platform", "web", "--output-dir", str(DIST), "--clear"],
            cwd=APP,
            env=env,
            check=True,
            timeout=timeout,
            capture_output=True,
        )
        stamp.write_text(wanted)
    return DIST


class _Handler(SimpleHTTPRequestHandler):
    runtime: dict = {}

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/" or not (Path(self.directory) / path.lstrip("/")).exists():
            self._index()  # a single-page app: every route is index.html
            return
        super().do_GET()

    def _index(self) -> None:
        html = (Path(self.directory) / "index.html").read_text()
        script = f"<script>window.__FAMILY_APP__={json.dumps(self.runtime)};</script>"
        body = html.replace("<head>", f"<head>{script}", 1).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def serve(
    *, port: int = 0, platform_url: str, tenant: dict | None = None, dist: Path = DIST
) -> ThreadingHTTPServer:
    """Serve a web build on 127.0.0.1 in a thread; ``server.server_port`` is its port. ``tenant``
    ({slug, name, apiBaseUrl}) bakes one business in, like a branded build."""
    runtime = {"platformUrl": platform_url.rstrip("/"), "tenant": tenant}
    handler = type("Handler", (_Handler,), {"runtime": runtime})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(dist)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
