"""Command line: run a sandbox tenant until Ctrl-C (``make demo``, manual tests).

    python -m m365_sandbox [--seed FILE|demo|default] [--port N] [--host H]
                           [--latency S] [--tls-dir DIR] [--non-interactive]
                           [--info-file FILE]

Prints the tenant id, client id, secret, CA path and base URLs — what an Odoo
administrator types into Settings → Microsoft 365 — then serves.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys

from .server.sandbox_server import Sandbox
from .tenant.seed import demo_seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m m365_sandbox", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--seed", default="demo", help="JSON seed file, or 'demo' (default) or 'default'"
    )
    parser.add_argument(
        "--port", type=int, default=8365, help="port to listen on (0 = any free port)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument(
        "--tls-dir", default=None, help="keep the CA and certificate here (reused next time)"
    )
    parser.add_argument("--rng-seed", type=int, default=0)
    parser.add_argument(
        "--non-interactive",
        action="store_true",
        help="answer /authorize at once instead of showing a consent page",
    )
    parser.add_argument(
        "--info-file",
        default=None,
        help="also write the connection details as JSON to this file once serving "
        "(scripts wait for it)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    if args.seed == "demo":
        seed = demo_seed()
    elif args.seed == "default":
        seed = None
    else:
        seed = args.seed
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    sandbox = Sandbox(
        seed=seed,
        latency=args.latency,
        port=args.port,
        host=args.host,
        rng_seed=args.rng_seed,
        tls_dir=args.tls_dir,
    )
    sandbox.authorize_interactive = not args.non_interactive
    _stop_on_signals()
    sandbox.start()
    lines = [
        "Microsoft 365 sandbox is running",
        f"tenant id:     {sandbox.tenant_id}",
        f"tenant domain: {sandbox.tenant_domain}",
        f"client id:     {sandbox.client_id}",
        f"client secret: {sandbox.client_secret}",
        f"CA file:       {sandbox.ca_path}",
        f"authority:     {sandbox.authority}",
        f"graph:         {sandbox.graph_url}",
        f"base url:      {sandbox.url}",
        f"signed-in user: {sandbox.state.signed_in_user or '(first enabled member)'}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    if args.info_file:
        _write_info(sandbox, args.info_file)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def _stop_on_signals() -> None:
    """Ctrl-C and ``kill`` stop the server cleanly, also when started in the background.

    A shell starts background jobs (``cmd &``, as ``make demo`` and scripts do) with
    SIGINT ignored, and Python then keeps it ignored: Ctrl-C or ``kill -INT`` would do
    nothing. Both signals are therefore turned into ``KeyboardInterrupt`` explicitly.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _write_info(sandbox: Sandbox, path: str) -> None:
    info = {
        "tenant_id": sandbox.tenant_id,
        "tenant_domain": sandbox.tenant_domain,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "ca_path": os.path.abspath(sandbox.ca_path),
        "url": sandbox.url,
        "authority": sandbox.authority,
        "graph_url": sandbox.graph_url,
    }
    # Written whole then renamed, so a reader never sees half a file.
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=2)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
