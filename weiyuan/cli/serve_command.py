"""``weiyuan serve``: start the whole stack, print where it is, stop it cleanly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import get_settings

if TYPE_CHECKING:
    pass
from weiyuan.cli.apps import app, console


@app.command("serve")
def serve() -> None:
    """启动全部服务（Rasa、动作服务、网关），打印访问地址；Ctrl-C 停止。"""
    import signal
    import threading

    from desk.accounts import count_admins
    from store.db import open_database
    from weiyuan.stack import full_stack, rasa_model

    settings = get_settings()
    db = open_database(settings.database_url, settings.database.echo)
    console.print("正在准备 Rasa 模型（输入没变时直接复用）……")
    model = rasa_model(settings)
    console.print("正在启动 动作服务、Rasa 服务、网关（首次约 1 分钟）……")
    stack = full_stack(settings, model)
    stack.start()
    base = f"http://{settings.server.host}:{settings.server.gateway_port}"
    console.print(f"""
[bold green]维援已启动[/bold green]
  网站咨询窗口演示  {base}/demo
  热线坐席检索      {base}/agent
  专家工作台        {base}/desk
  管理后台          {base}/admin
  统计分析          {base}/admin/analytics
  API 文档          {base}/api/docs
  日志目录          {settings.data_dir / "logs"}
按 Ctrl-C 停止。""")
    if not count_admins(db):
        console.print(
            "[yellow]还没有管理员账号：另开一个终端运行 .venv/bin/weiyuan user add admin --role admin[/yellow]"
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.watch(
            stop,
            on_restart=lambda service, n: console.print(
                f"[yellow]{service.name}意外退出，正在第 {n} 次重新启动（日志：{service.log}）；其他服务照常运行[/yellow]"
            ),
        )
    except KeyboardInterrupt:
        pass
    finally:
        console.print("正在停止……")
        stack.stop()


@app.command("metrics-token")
def metrics_token_command() -> None:
    """打印监控令牌：Prometheus 抓取 /metrics 时放在 Authorization: Bearer 里。"""
    from core.secrets import metrics_token

    console.print(metrics_token(get_settings()), soft_wrap=True)
