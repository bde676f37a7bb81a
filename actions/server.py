"""Start the rasa-sdk action server after the model and index are loaded.

``python -m actions.server --port 5055``: warming up first means the server
only answers its health check once the first conversation can be served
without a 10-second pause.  Logs are redacted (phone, ID, e-mail).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from typing import Any

from core.redact import install
from core.secrets import service_token
from core.settings import get_settings


def require_token(app: Any, token: str) -> None:
    """Only Rasa, which sends the installation's token with every call, may run an action."""
    from sanic import response

    @app.on_request  # type: ignore[untyped-decorator]
    async def check(request: Any) -> Any:
        if request.path == "/health":
            return None
        if not hmac.compare_digest(request.args.get("token", ""), token):
            return response.json({"error": "unauthorised"}, status=401)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description="weiyuan action server")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    install(logging.INFO)
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")

    from consult.service import get_consultant

    consultant = get_consultant()
    consultant.retriever.search("知识产权维权援助", k=1)  # load model, index and tokenizer now

    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    # Only Rasa (on loopback) calls this server: no CORS. One process, so the warm model is the one serving.
    app = create_app(executor, cors_origins=None)
    require_token(app, service_token(get_settings(), "actions"))
    app.run(host=os.environ["SANIC_HOST"], port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
