"""Command-line and environment settings of the agent."""

import argparse
import os
import re
import socket
from dataclasses import dataclass, field

DEFAULT_PORT = 8700
DEFAULT_KEEP = ("main.py", "requirements.txt", "data/")
MIN_TOKEN_LENGTH = 16
PLACEHOLDER_PREFIX = "REPLACE"  # deploy/agent/secret.yaml ships a placeholder that must never be served

_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class ConfigError(ValueError):  # a ValueError, so argparse reports a bad size like any bad value
    pass


def parse_size(text: str) -> int:
    """'512M', '8G', '1048576' or '1MiB' → bytes."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(i?B)?\s*", str(text), re.IGNORECASE)
    if not match:
        raise ConfigError(f"{text!r} is not a size; write it like 1048576, 512M or 8G")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]


@dataclass
class Settings:
    workspace: str
    state_dir: str
    token: str | None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    insecure_no_token: bool = False
    max_active_runs: int = 1
    max_upload_bytes: int = 16 * 1024**3
    max_archive_bytes: int = 32 * 1024**3
    max_archive_entries: int = 100_000
    max_compression_ratio: float = 200.0
    interrupt_grace_seconds: float = 10.0
    log_poll_interval: float = 0.025
    cpu_sample_interval: float = 1.0
    default_keep: tuple[str, ...] = field(default=DEFAULT_KEEP)
    node_name: str | None = None


def _env(environ, name, default=None):
    value = environ.get(name)
    return default if value in (None, "") else value


def build_parser(environ) -> argparse.ArgumentParser:
    e = lambda name, default=None: _env(environ, name, default)  # noqa: E731
    p = argparse.ArgumentParser(
        prog="python -m agent",
        description="Volcano Portal node agent. Every option can also be set with the AGENT_* "
        "environment variable named in its help.",
    )
    p.add_argument("--host", default=e("AGENT_HOST", "127.0.0.1"), help="AGENT_HOST (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=int(e("AGENT_PORT", DEFAULT_PORT)),
                   help=f"AGENT_PORT (default {DEFAULT_PORT})")
    p.add_argument("--workspace", default=e("AGENT_WORKSPACE", "/workspace"), help="AGENT_WORKSPACE")
    p.add_argument("--state-dir", default=e("AGENT_STATE_DIR", "/var/lib/volcano-portal-agent"),
                   help="AGENT_STATE_DIR: run logs and metadata; must be outside the workspace")
    p.add_argument("--token", default=e("AGENT_TOKEN"),
                   help="AGENT_TOKEN (prefer AGENT_TOKEN or --token-file: arguments show in ps)")
    p.add_argument("--token-file", default=e("AGENT_TOKEN_FILE"),
                   help="AGENT_TOKEN_FILE: a file holding the token, such as a mounted Secret")
    p.add_argument("--insecure-no-token", action="store_true",
                   default=e("AGENT_INSECURE_NO_TOKEN", "") in ("1", "true", "yes"),
                   help="AGENT_INSECURE_NO_TOKEN=1: serve without authentication (local development only)")
    p.add_argument("--max-active-runs", type=int, default=int(e("AGENT_MAX_ACTIVE_RUNS", 1)),
                   help="AGENT_MAX_ACTIVE_RUNS (default 1)")
    p.add_argument("--max-upload-bytes", type=parse_size, default=e("AGENT_MAX_UPLOAD_BYTES", "16G"),
                   help="AGENT_MAX_UPLOAD_BYTES: largest request body accepted (default 16G)")
    p.add_argument("--max-archive-bytes", type=parse_size, default=e("AGENT_MAX_ARCHIVE_BYTES", "32G"),
                   help="AGENT_MAX_ARCHIVE_BYTES: largest total uncompressed size of an archive (default 32G)")
    p.add_argument("--max-archive-entries", type=int, default=int(e("AGENT_MAX_ARCHIVE_ENTRIES", 100_000)),
                   help="AGENT_MAX_ARCHIVE_ENTRIES (default 100000)")
    p.add_argument("--max-compression-ratio", type=float,
                   default=float(e("AGENT_MAX_COMPRESSION_RATIO", 200)),
                   help="AGENT_MAX_COMPRESSION_RATIO: refuse members (over 1 MiB) that expand more (default 200)")
    p.add_argument("--interrupt-grace", type=float, default=float(e("AGENT_INTERRUPT_GRACE", 10)),
                   help="AGENT_INTERRUPT_GRACE: seconds between SIGINT, SIGTERM and SIGKILL (default 10)")
    p.add_argument("--log-poll-interval", type=float, default=float(e("AGENT_LOG_POLL_INTERVAL", 0.025)),
                   help="AGENT_LOG_POLL_INTERVAL: seconds between checks for new log bytes (default 0.025)")
    return p


def _read_token(args) -> str | None:
    if args.token and args.token_file:
        raise ConfigError("give the token either directly (--token / AGENT_TOKEN) or as a file "
                          "(--token-file / AGENT_TOKEN_FILE), not both")
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {args.token_file}: {exc.strerror}") from None
        if not token:
            raise ConfigError(f"the token file {args.token_file} is empty")
        return token
    return args.token.strip() if args.token else None


def load_settings(argv=None, environ=None) -> Settings:
    environ = os.environ if environ is None else environ
    args = build_parser(environ).parse_args(argv)
    token = _read_token(args)
    if not token and not args.insecure_no_token:
        raise ConfigError("no token: set AGENT_TOKEN, AGENT_TOKEN_FILE, --token or --token-file "
                          "(or --insecure-no-token for local development only)")
    if token and (len(token) < MIN_TOKEN_LENGTH or token.startswith(PLACEHOLDER_PREFIX)):
        raise ConfigError(f"the token is a placeholder or shorter than {MIN_TOKEN_LENGTH} characters; "
                          "make one with `openssl rand -hex 32`")
    workspace = os.path.realpath(args.workspace)
    state_dir = os.path.realpath(args.state_dir)
    if os.path.commonpath([workspace, state_dir]) in (workspace, state_dir):
        raise ConfigError(f"the state dir {state_dir} and the workspace {workspace} must not contain "
                          "each other: clearing the workspace must keep the run history")
    if args.max_active_runs < 1:
        raise ConfigError("--max-active-runs must be at least 1")
    return Settings(
        workspace=workspace,
        state_dir=state_dir,
        token=token or None,
        host=args.host,
        port=args.port,
        insecure_no_token=args.insecure_no_token and not token,
        max_active_runs=args.max_active_runs,
        max_upload_bytes=args.max_upload_bytes,  # argparse applies parse_size to string defaults too
        max_archive_bytes=args.max_archive_bytes,
        max_archive_entries=args.max_archive_entries,
        max_compression_ratio=args.max_compression_ratio,
        interrupt_grace_seconds=args.interrupt_grace,
        log_poll_interval=args.log_poll_interval,
        node_name=environ.get("NODE_NAME") or socket.gethostname(),
    )
