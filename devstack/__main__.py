"""`python -m devstack [--port N] [--host H] [--no-seed]`: the local Leads API for `make dev`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from typing import Any

from devstack.stack import start_local_stack


def _parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def _token_field(token: Any, name: str) -> Any:
    return token[name] if isinstance(token, dict) else getattr(token, name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "3000")),
        help="port of the API (env PORT, default 3000; 0 picks a free one)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    parser.add_argument(
        "--parameter",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter override (repeatable)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    logging.getLogger("botocore").setLevel(logging.WARNING)

    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())

    stack = start_local_stack(
        port=args.port, seed=not args.no_seed, host=args.host, parameter_overrides=dict(args.parameter)
    )
    try:
        for token in stack.tokens:
            fields = ", ".join(
                f"{name}={_token_field(token, name)}" for name in ("tenant_id", "user_id", "role")
            )
            print(
                f"Demo token for {_token_field(token, 'name')} ({fields}):\n  {_token_field(token, 'token')}"
            )
        print(f"AWS emulator (moto) on {stack.emulator_url}")
        if stack.dropbox:
            bucket, domain = stack.dropbox
            print(f"Email drop-box: leads+<tenant>.<token>@{domain} (an admin's GET /tenant shows it).")
            if stack.tokens:  # seeded: the demo tenants' addresses are fixed
                from devstack.seed import demo_dropbox_addresses

                for tenant_id, address in demo_dropbox_addresses(domain).items():
                    print(f"  {tenant_id}: {address}")
            print(
                "A message dropped into the bucket is captured and linked, e.g.:\n"
                f"  curl -X PUT -H 'Content-Type: message/rfc822' --data-binary @message.eml "
                f"{stack.emulator_url}/{bucket}/inbound/message.eml"
            )
        if stack.tokens:  # seeded: acme's demo lead form has a fixed key
            from devstack.seed import DEMO_FORM_KEY

            print(
                f"Demo lead form (acme, open it in a browser): {stack.base_url}/f/{DEMO_FORM_KEY}\n"
                f"  its embed script: {stack.base_url}/f/{DEMO_FORM_KEY}/embed.js (docs/forms.md)"
            )
        print(f"Leads API ready on {stack.base_url}", flush=True)
        stopping.wait()
    finally:
        print("Stopping the local stack", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
