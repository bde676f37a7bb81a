"""``weiyuan eval``: retrieval metrics, fusion weights, calibration, the domain model, the ranker, dialogue runs."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from core.settings import Settings, get_settings
from core.vocabulary import IP_TYPE_LABELS, KIND_LABELS

if TYPE_CHECKING:
    from index.evaluate import SearchFn
    from index.retriever import Retriever
from weiyuan.cli.apps import console, eval_app
from weiyuan.cli.progress import progress_bar


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
    with progress_bar() as progress:
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
    with progress_bar() as progress:
        task = progress.add_task("对话评测", total=len(questions))
        turns = evaluate_dialogue(settings, questions, lambda n: progress.update(task, completed=n))
    summary = summarise(turns)
    command = f"weiyuan eval dialogue --split {split}" + (f" --set {which}" if which != "all" else "")
    report = write_results(settings.root / "results", split, turns, summary, command)
    console.print(report.read_text(encoding="utf-8"))


@eval_app.command("all")
def eval_all(
    quick: Annotated[bool, typer.Option("--quick", help="每个评测只取一小部分（CI 用，几分钟）")] = False,
    out: Annotated[str | None, typer.Option(help="报告目录（默认 results/reports）")] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="只运行这些部分：retrieval、rasa、dialogue、bench（可重复）")
    ] = None,
) -> None:
    """运行全部评测（检索、置信度校准、NLU 与故事测试、真实对话、基准结果），写出带图表的日期报告并与上一份对比。"""
    from pathlib import Path

    from weiyuan.evalreport.run import SECTION_NAMES, run_all

    settings = get_settings()
    chosen = tuple(only or SECTION_NAMES)
    unknown = [name for name in chosen if name not in SECTION_NAMES]
    if unknown:
        raise typer.BadParameter(
            f"未知的部分 {', '.join(unknown)}，可选：{'、'.join(SECTION_NAMES)}", param_hint="--only"
        )
    out_dir = Path(out) if out else settings.root / "results" / "reports"
    command = "weiyuan eval all" + (" --quick" if quick else "") + "".join(f" --only {n}" for n in (only or ()))
    with console.status("评测中…") as status:
        markdown, sections, complete = run_all(
            settings, out_dir, quick, command, lambda step: status.update(f"评测中：{step}"), chosen
        )
    for section in sections:
        mark = "[red]未完成[/red]" if section.skipped else "[green]完成[/green]"
        console.print(
            f"{mark} {section.title}" + (f"：{section.skipped}" if section.skipped else f"（{section.seconds:.0f} 秒）")
        )
    console.print(f"报告：{markdown}")
    if not complete:
        raise typer.Exit(1)


@eval_app.command("clusters")
def eval_clusters(
    thresholds: Annotated[str, typer.Option(help="逗号分隔的余弦距离阈值")] = "0.04,0.06,0.08,0.10,0.12,0.15",
) -> None:
    """检验未答好问题聚类的距离阈值：把每个知识库条目的问题和问法当作一个话题，看聚类能否还原话题。"""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from desk.analytics.clusters import cluster_labels
    from index.loader import load_corpus
    from index.runtime import make_retriever

    settings = get_settings()
    retriever = make_retriever(settings)
    corpus = load_corpus(settings.knowledge_dir)
    texts = [(e.id, q) for e in corpus.entries for q in (e.question, *e.variants)]
    with console.status(f"嵌入 {len(texts)} 个问题……"):
        vectors = retriever.embedder.embed_queries([retriever.search_text(q) for _, q in texts])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    topic = np.array([t for t, _ in texts])
    same = topic[:, None] == topic[None, :]
    upper = np.triu_indices(len(texts), 1)
    table = Table(title=f"聚类阈值（{len(texts)} 个问题，{len(set(topic.tolist()))} 个条目各为一个话题）")
    for column in ("阈值", "同组问题对的精确率", "召回率", "调整兰德指数", "≥2 条的组"):
        table.add_column(column, justify="right")
    for value in (float(t) for t in thresholds.split(",")):
        labels = cluster_labels(unit, value)
        together = labels[:, None] == labels[None, :]
        hits = int((together & same)[upper].sum())
        precision = hits / max(int(together[upper].sum()), 1)
        recall = hits / max(int(same[upper].sum()), 1)
        groups = int((np.bincount(labels) >= 2).sum())
        ari = adjusted_rand_score(topic, labels)
        table.add_row(f"{value:.2f}", f"{precision:.3f}", f"{recall:.3f}", f"{ari:.3f}", str(groups))
    console.print(table)
