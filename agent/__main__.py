"""`python -m agent`: start the node agent."""

import sys

import uvicorn

from .app import create_app
from .config import ConfigError, load_settings

INSECURE_BANNER = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  WARNING: the agent is running WITHOUT A TOKEN (--insecure-no-token).                   !!
!!  Anyone who can reach {address:<40} can run commands and read  !!
!!  and replace files on this machine. Use this for local development only.                 !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


def main(argv=None) -> int:
    try:
        settings = load_settings(argv)
    except (ConfigError, ValueError) as exc:  # ValueError: a malformed number in an AGENT_* variable
        print(f"agent: {exc}", file=sys.stderr)
        return 2
    if settings.insecure_no_token:
        print(INSECURE_BANNER.format(address=f"{settings.host}:{settings.port}"), file=sys.stderr, flush=True)
    app = create_app(settings)
    print(f"agent: serving on {settings.host}:{settings.port}, workspace {settings.workspace}, "
          f"state {settings.state_dir}", file=sys.stderr, flush=True)
    # The graceful-shutdown timeout ends open log streams, which would otherwise keep the server up.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                timeout_graceful_shutdown=3, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
