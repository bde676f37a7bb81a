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

#: Probes a supervisor or load balancer calls without the token (they run no action, show no data);
#: ``/metrics`` checks its own token (the scraper's, not Rasa's).
UNGUARDED = ("/health", "/ready", "/metrics")


def add_readiness(app: Any, consultant: Any) -> None:
    """``GET /ready``: 200 when the index is loaded and the database answers ``SELECT 1``, else 503.

    rasa-sdk's ``/health`` is liveness (answered once warmed up); an action that hands a conversation
    over needs the database too, so a load balancer should route by ``/ready``.
    """
    import asyncio

    from sanic import response
    from sqlalchemy import text

    def select_one() -> None:
        with consultant.db.engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()

    async def ready(_request: Any) -> Any:
        checks: dict[str, dict[str, Any]] = {}
        for name, probe in (("index", lambda: consultant.retriever.version), ("database", select_one)):
            try:
                detail = await asyncio.wait_for(asyncio.to_thread(probe), 3.0)
                checks[name] = {"ok": True, **({"version": detail} if isinstance(detail, str) else {})}
            except Exception as exc:  # a failed probe is "not ready", never a 500
                checks[name] = {"ok": False, "error": type(exc).__name__}
        if all(c["ok"] for c in checks.values()):
            return response.json({"ready": True, "checks": checks})
        failed = "、".join(
            {"index": "知识库索引未加载", "database": "数据库无法连接"}[n] for n, c in checks.items() if not c["ok"]
        )
        return response.json({"ready": False, "message": f"动作服务暂时不可用：{failed}", "checks": checks}, status=503)

    app.add_route(ready, "/ready", methods=["GET"])


def require_token(app: Any, token: str) -> None:
    """Only Rasa, which sends the installation's token with every call, may run an action."""
    from sanic import response

    @app.on_request  # type: ignore[untyped-decorator]
    async def check(request: Any) -> Any:
        if request.path in UNGUARDED:
            return None
        if not hmac.compare_digest(request.args.get("token", ""), token):
            return response.json({"error": "unauthorised"}, status=401)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description="weiyuan action server")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    install(logging.INFO, json_lines=get_settings().server.log_format == "json", process="actions")
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")

    from consult.service import get_consultant
    from index.runtime import limit_serving_threads

    consultant = get_consultant()
    consultant.retriever.search("知识产权维权援助", k=1)  # load model, index and tokenizer now
    limit_serving_threads(get_settings())

    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor

    from actions.lookup_routes import add_lookup_routes
    from actions.metrics import add_metrics

    executor = ActionExecutor()
    executor.register_package("actions")
    # Only Rasa (on loopback) calls this server: no CORS. One process, so the warm model is the one serving.
    app = create_app(executor, cors_origins=None)
    add_readiness(app, consultant)
    add_lookup_routes(app, consultant.retriever)
    add_metrics(app, get_settings())
    require_token(app, service_token(get_settings(), "actions"))
    app.run(host=os.environ["SANIC_HOST"], port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
