"""`python -m bot.rasa_server [rasa run options]`: the Rasa server, its token off the command line.

Rasa 3.6 takes its HTTP API token only as `rasa run --auth-token <token>`, which anyone on the
machine can read in `ps`. This launcher reads the token from RASA_TOKEN, adds it to the arguments
Rasa parses in this process (`sys.argv`; `ps` shows the arguments the process was started with),
makes Rasa's action calls end within seconds (`bot.remote_actions`), ends conversation sessions
that grew too long for fast replies (`bot.session_cap`), calls the detail reader only for messages
that can change a detail slot (`bot.detail_extraction`), takes cheaper paths through Rasa's
hot spots (`bot.speedups`), answers a message sent again from the record (`bot.resent_messages`)
and runs `rasa run`.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

TOKEN_ENV = "RASA_TOKEN"


def rasa_arguments(options: List[str], token: str) -> List[str]:
    """The `sys.argv` Rasa's command line parses: `rasa run`, the options, the token.

    Raises:
        ValueError: when the options carry a token of their own (it belongs in RASA_TOKEN).
    """
    if any(option.split("=")[0] == "--auth-token" for option in options):
        raise ValueError(f"pass the token in {TOKEN_ENV}, never on the command line")
    return ["rasa", "run", *options, "--auth-token", token]


def main(options: Optional[List[str]] = None) -> None:
    """Runs `rasa run` in this process with the token from RASA_TOKEN."""
    token = os.environ.get(TOKEN_ENV) or ""
    if not token:
        sys.exit(f"{TOKEN_ENV} is not set: the Rasa server's HTTP API needs a token")
    try:
        sys.argv = rasa_arguments(sys.argv[1:] if options is None else options, token)
    except ValueError as error:
        sys.exit(str(error))

    from rasa.__main__ import main as rasa_main

    from bot import detail_extraction, remote_actions, resent_messages, session_cap, speedups

    speedups.install()
    remote_actions.install()
    session_cap.install()
    detail_extraction.install()
    resent_messages.install()
    rasa_main()


if __name__ == "__main__":
    main()
