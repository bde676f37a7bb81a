"""Every JSON body the gateway accepts or returns, as a pydantic model.

Handlers validate requests with these (a bad body is a 400 with a Chinese
message naming the field) and build their responses from them, and the
OpenAPI document (``gateway/api.py``) is generated from the same models and
the route table, so the document cannot drift from the code.

Requests ignore unknown fields (an older widget still works); responses
forbid them, so a handler that returns an undeclared field fails its tests.
Nested objects whose shape belongs to another layer (a ticket, an index
version, a refresh job) declare the fields clients use and allow the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from consult.feedback import Reason
from core.messages import BotMeta
from core.vocabulary import IpType, Kind
from desk.accounts import MIN_PASSWORD_CHARS, USERNAME_PATTERN
from index.editing import EDITABLE, TOP_LEVEL

# ---------------------------------------------------------------- shared parts

SESSION_PATTERN = r"^w-[A-Za-z0-9_-]{16,40}$"
_SESSION = re.compile(SESSION_PATTERN)


def _check_session(value: str) -> str:
    if not _SESSION.match(value):
        raise PydanticCustomError("session", "会话编号无效，请刷新页面")
    return value


#: Checked by the validator (for its Chinese message); the pattern is also shown in the document.
SessionId = Annotated[
    str, AfterValidator(_check_session), Field(title="会话编号", json_schema_extra={"pattern": SESSION_PATTERN})
]


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


#: A query filter left empty by a page's "全部" option means no filter.
Blank = BeforeValidator(_blank_is_none)


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An object owned by another layer: the fields clients rely on are typed, others pass through."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Open):
    status: int
    message: str = Field(description="中文错误说明")


class ErrorBody(Response):
    error: ErrorDetail


class Ok(Response):
    ok: Literal[True] = True
    hint: str | None = Field(default=None, description="给用户看的中文提示")


class Button(Open):
    title: str
    payload: str


# ---------------------------------------------------------------- public chat

Role = Literal["user", "bot", "expert", "system"]


class ChatMessageOut(Response):
    id: int
    role: Role
    text: str
    buttons: list[Button] = []
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description="机器可读元数据；机器人消息的结构见 BotMeta（type: answer | clarify | handoff | out_of_scope | form | info）",
    )
    author: str | None = None
    time: str | None = None


class StartRequest(Request):
    session: str | None = Field(
        default=None, title="会话编号", description="浏览器记住的会话编号；无效或为空时开始新会话"
    )


class StartResponse(Response):
    session: str = Field(pattern=SESSION_PATTERN)
    messages: list[ChatMessageOut]


class SendRequest(Request):
    session: SessionId
    text: str = Field(title="消息", min_length=1, max_length=20000, description="最长字数见 gateway.max_message_chars")
    display: str | None = Field(
        default=None, max_length=2000, title="显示文字", description="按钮消息在对话中显示的文字"
    )
    client_id: str | None = Field(
        default=None,
        max_length=200,
        title="客户端消息编号",
        description="重试时带同一编号，消息不会保存两次（格式 [A-Za-z0-9_-]{8,64}，其他值忽略）",
    )


class SendResponse(Response):
    messages: list[ChatMessageOut]
    waiting_for_expert: bool | None = None
    duplicate: bool | None = Field(default=None, description="重试的消息已经收到过")


class HistoryQuery(Request):
    session: SessionId
    after: int = Field(default=0, ge=0, le=2**53, title="消息编号", description="只返回这条之后的消息")


class HistoryResponse(Response):
    messages: list[ChatMessageOut]


class FeedbackRequest(Request):
    session: SessionId
    answer_id: str = Field(pattern=r"^[0-9a-f]{32}$", title="回答编号")
    rating: Literal[1, -1] = Field(title="评价", description="1 有帮助，-1 没帮助")
    reason: Reason | None = Field(
        default=None,
        title="没帮助的原因",
        description="可不选：off_point 没答到点上，wrong_basis 依据不对，too_general 太笼统，other 其他；"
        "只随“没帮助”保存。再次提交同一回答的评价会更新原评价",
    )
    comment: str | None = Field(default=None, title="意见", description="超过 1000 字的部分不保存；个人信息会被遮盖")


# ---------------------------------------------------------------- lookup (agents)


class CitationOut(Open):
    law: str
    article: str
    label: str


class Passage(Response):
    """An article, entry or case as the lookup and the citation pages show it."""

    id: str
    kind: Kind
    kind_label: str
    title: str
    heading: str | None = None
    text: str
    citations: list[CitationOut]
    ip_types: list[str]
    region: str | None = None
    source: str | None = None


class HitOut(Passage):
    score: float
    ip_labels: list[str]
    services: list[str]
    status: str | None = None
    status_label: str


class SearchQuery(Request):
    q: str = Field(min_length=1, max_length=5000, title="检索内容")
    k: int = Field(default=8, ge=1, le=30, title="条数")
    kind: Annotated[Kind | None, Blank] = Field(
        default=None, title="类型", description="policy 法规 | entry 知识库 | case 案例；空为全部"
    )
    ip_type: Annotated[IpType | None, Blank] = Field(default=None, title="知识产权类型")
    region: Annotated[str | None, Blank] = Field(default=None, max_length=20, title="地区")
    current_only: Annotated[Literal["0", "1"] | None, Blank] = Field(
        default=None, title="只看现行有效", description="1 只看现行有效的法规"
    )


class SearchResponse(Response):
    query: str
    confidence: float
    answerable: bool
    tier: str
    version: str | None
    took_ms: float | None
    highlight: list[str]
    hits: list[HitOut]


class ChunkQuery(Request):
    id: str | None = Field(default=None, max_length=300, title="编号")
    law: str | None = Field(default=None, max_length=200, title="法规名称")
    article: str | None = Field(default=None, max_length=50, title="条号")


class ChunkResponse(Passage):
    questions: list[str]


# ---------------------------------------------------------------- health


class HealthResponse(Response):
    ok: bool
    index_version: str | None = None
    message: str | None = None


# ---------------------------------------------------------------- admin: index


class JobOut(Open):
    id: str
    kind: str
    status: Literal["running", "done", "failed"]
    stage: str | None = None
    stage_label: str | None = None
    percent: float | None = None
    error: str | None = None


class JobPath(Request):
    job_id: str = Field(min_length=1, max_length=64, title="任务编号")


class JobResponse(Response):
    job: JobOut


class RefreshRequest(Request):
    full: bool = Field(default=False, title="全量重建", description="true 时重新计算全部向量")


class IndexVersionOut(Open):
    version: str
    created_at: Any = None
    mode: str | None = None
    chunks: int | None = None
    serving: bool


class IndexStatusResponse(Response):
    current: str | None
    versions: list[IndexVersionOut]
    history: list[dict[str, Any]]
    running_job: JobOut | None


#: An index version name as the store writes it (a folder name under var/index/versions/).
VERSION_PATTERN = r"^[^/.\x00-\x1f][^/\x00-\x1f]{0,99}$"


class RollbackRequest(Request):
    version: Annotated[str | None, Blank] = Field(
        default=None, pattern=VERSION_PATTERN, title="版本", description="为空时回到上一个版本"
    )


class RollbackResponse(Response):
    current: str


class DiffQuery(Request):
    from_: str = Field(alias="from", pattern=VERSION_PATTERN, title="旧版本")
    to: str = Field(pattern=VERSION_PATTERN, title="新版本")


class DiffResponse(Open):
    """Entries and articles added, changed and removed between two versions."""


# ---------------------------------------------------------------- admin: knowledge files


def _knowledge_path_pattern() -> str:
    """The editable files (index/editing.py): a folder, sub-folders, a name with the folder's suffix."""
    part = r"[^/.\x00-\x1f][^/\x00-\x1f]{0,59}"
    folders = "|".join(
        f"{folder}/(?:{part}/)*{part}(?:{'|'.join(re.escape(s) for s in suffixes)})"
        for folder, suffixes in EDITABLE.items()
    )
    return f"^(?:{'|'.join(re.escape(t) for t in TOP_LEVEL)}|{folders})$"


KnowledgePath = Annotated[
    str,
    Field(
        max_length=300,
        pattern=_knowledge_path_pattern(),
        title="文件路径",
        description="knowledge/ 下的相对路径，例如 entries/patent.yaml",
    ),
]


class KnowledgeFileOut(Open):
    path: str


class KnowledgeFilesResponse(Response):
    files: list[KnowledgeFileOut]


class PathQuery(Request):
    path: KnowledgePath


class KnowledgeFileResponse(Response):
    path: str
    content: str


class KnowledgeFileRequest(Request):
    path: KnowledgePath
    content: str = Field(max_length=2_000_000, title="文件内容")


class Problem(Open):
    path: str | None = None
    line: int | None = None
    reason: str


class ValidateResponse(Response):
    ok: bool
    problems: list[Problem]


class SavedResponse(Ok):
    path: str


# ---------------------------------------------------------------- accounts

StaffRole = Literal["agent", "expert", "admin"]


class UserOut(Response):
    username: str
    display_name: str | None = None
    role: StaffRole
    expert_id: str | None = None
    active: bool
    last_login_at: str | None = None


class UsersResponse(Response):
    users: list[UserOut]


NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_CHARS, max_length=256, title="新密码")]


class NewUserRequest(Request):
    username: str = Field(pattern=USERNAME_PATTERN, title="用户名", description="字母、数字、- 和 _，最长 64 个字符")
    password: NewPassword
    role: StaffRole = Field(title="角色")
    display_name: str = Field(default="", max_length=100, title="显示名")
    expert_id: str | None = Field(default=None, max_length=80, title="专家编号")


class ActiveRequest(Request):
    active: bool = Field(title="启用")


class PasswordResetRequest(Request):
    password: NewPassword


class PasswordChangeRequest(Request):
    current_password: str = Field(max_length=256, title="当前密码")
    new_password: NewPassword


class UsernamePath(Request):
    username: str = Field(min_length=1, max_length=64)


# ---------------------------------------------------------------- expert desk


class TicketOut(Open):
    number: str
    kind: str
    status: str
    priority: str


class TicketsQuery(Request):
    scope: Literal["mine", "pool", "open", "all"] = Field(default="mine", title="范围")
    ip_type: Annotated[IpType | None, Blank] = Field(default=None, title="知识产权类型")
    region: Annotated[str | None, Blank] = Field(default=None, max_length=20, title="地区")
    priority: Annotated[Literal["normal", "high"] | None, Blank] = Field(default=None, title="优先级")
    kind: Annotated[str | None, Blank] = Field(default=None, max_length=40, title="工单类型")


class TicketsResponse(Response):
    tickets: list[TicketOut]


class TicketPath(Request):
    number: str = Field(min_length=1, max_length=40, title="工单号")


TicketAction = Literal["claim", "reply", "note", "hand-back", "close", "draft"]


class TicketActionPath(TicketPath):
    action: TicketAction


class TicketActionRequest(Request):
    """The fields each action reads: reply/note ``text``, close ``resolution``, draft the entry fields."""

    text: str | None = Field(default=None, max_length=10000, title="内容")
    resolution: str | None = Field(default=None, max_length=10000, title="处理结果")
    question: str | None = Field(default=None, max_length=2000, title="问题")
    answer: str | None = Field(default=None, max_length=20000, title="回答")
    ip_type: IpType | None = None
    references: list[dict[str, Any]] | None = Field(default=None, max_length=50)
    variants: list[str] | None = Field(default=None, max_length=50)


class TicketActionResponse(Response):
    ok: Literal[True] = True
    ticket: TicketOut | None = None
    draft: int | None = None


class HotlineRequest(Request):
    description: str = Field(default="", max_length=10000, title="来电内容")
    query: str | None = Field(default=None, max_length=2000, title="检索内容")
    ip_type: Annotated[IpType | None, Blank] = Field(default=None, title="知识产权类型")
    region: Annotated[str | None, Blank] = Field(default=None, max_length=20, title="地区")
    priority: Annotated[Literal["normal", "high"], BeforeValidator(lambda v: v or "normal")] = Field(
        default="normal", title="优先级"
    )
    contact_name: str | None = Field(default=None, max_length=200, title="联系人")
    phone: str | None = Field(default=None, max_length=40, title="电话")
    company_name: str | None = Field(default=None, max_length=200, title="单位")
    consent: bool = Field(default=False, title="同意保存联系方式")


class HotlineResponse(Response):
    ok: Literal[True] = True
    number: str
    assigned_expert: str | None


class DraftsQuery(Request):
    status: Literal["draft", "published", "rejected"] = Field(default="draft", title="状态")


class DraftOut(Open):
    id: int


class DraftsResponse(Response):
    drafts: list[DraftOut]


class DraftPath(Request):
    draft_id: int = Field(ge=1, le=2**31 - 1, title="草稿编号")


class PublishRequest(Request):
    """Edits the reviewer made to the draft before publishing it."""

    question: str | None = Field(default=None, max_length=2000)
    answer: str | None = Field(default=None, max_length=20000)
    ip_type: IpType | None = None
    references: list[dict[str, Any]] | None = Field(default=None, max_length=50)
    variants: list[str] | None = Field(default=None, max_length=50)


class PublishResponse(Response):
    ok: Literal[True] = True
    entry_id: str
    job: JobOut


class RejectRequest(Request):
    note: str = Field(default="", max_length=2000, title="说明")


#: Models that only appear inside ``meta`` (documented so widget authors can rely on them).
EXTRA_SCHEMAS: tuple[Any, ...] = (BotMeta,)


# ---------------------------------------------------------------- analytics (admin)


class AnalyticsQuery(Request):
    from_: Annotated[dt.date | None, Blank] = Field(
        default=None,
        alias="from",
        ge=dt.date(2000, 1, 1),
        le=dt.date(2099, 12, 31),
        title="开始日期",
        description="YYYY-MM-DD（北京时间）；空为结束日期前 29 天",
    )
    to: Annotated[dt.date | None, Blank] = Field(
        default=None,
        ge=dt.date(2000, 1, 1),
        le=dt.date(2099, 12, 31),
        title="结束日期",
        description="YYYY-MM-DD；空为今天",
    )


class ClustersQuery(AnalyticsQuery):
    declined: bool = Field(
        default=False,
        title="含婉拒的问题",
        description="true：把判为非知识产权而婉拒的问题也纳入聚类（领域判断可能有误，重复出现的婉拒值得一看）",
    )


class ReportQuery(Request):
    month: Annotated[str | None, Blank] = Field(
        default=None, pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", title="月份", description="YYYY-MM；与年份都空时为本月"
    )
    year: Annotated[int | None, Blank] = Field(default=None, ge=2000, le=2099, title="年份", description="整年的数字")


class ClusterDraftRequest(Request):
    """The analytics records a cluster's draft is made from (the central question first)."""

    question_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1,
        max_length=8,
        title="问题记录编号",
        description="聚类中的 draft_ids：第一条作为问题，其余作为其他问法",
    )


class ClusterDraftResponse(Response):
    ok: Literal[True] = True
    draft: int
    review_url: str
