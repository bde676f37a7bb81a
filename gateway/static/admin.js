/* Admin console: versions, live refresh progress, rollback, diffs, knowledge files, accounts. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  // tabs
  Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
    b.addEventListener("click", function () {
      Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (x) { x.classList.toggle("active", x === b); });
      Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (t) { t.classList.toggle("active", t.id === "tab-" + b.dataset.tab); });
      if (b.dataset.tab === "files") loadFiles();
      if (b.dataset.tab === "users") loadUsers();
      if (b.dataset.tab === "drafts") loadDrafts();
    });
  });
  // a link to /admin#drafts (e.g. from a cluster on the analytics page) opens the drafts to review
  if (location.hash === "#drafts") document.querySelector('.tabs button[data-tab="drafts"]').click();

  // ---- index ----------------------------------------------------------------
  function loadIndex() {
    return wy.get("/api/admin/index").then(function (data) {
      $("current-version").textContent = data.current || "（无）";
      var body = document.querySelector("#versions tbody");
      wy.clear(body);
      ["diff-from", "diff-to"].forEach(function (id) { wy.clear($(id)); });
      data.versions.forEach(function (v, i) {
        var c = v.changes || {};
        var row = wy.el("tr", { class: v.serving ? "serving" : "" }, [
          wy.el("td", {}, [wy.el("code", { text: v.version })]),
          wy.el("td", { text: (v.created_at || "").replace("T", " ").replace("+00:00", "") }),
          wy.el("td", { text: v.mode === "incremental" ? "增量" : "完整" }),
          wy.el("td", { text: v.user || "命令行" }),
          wy.el("td", { text: String(v.chunks) }),
          wy.el("td", { text: (c.added || 0) + "/" + (c.changed || 0) + "/" + (c.removed || 0) }),
          wy.el("td", { text: (v.ann || {}).backend || "" }),
          wy.el("td", {}, [v.serving ? wy.el("strong", { text: "服务中" }) :
            wy.el("button", { type: "button", text: "回滚到此版本", onclick: function () { rollback(v.version); } })])
        ]);
        body.appendChild(row);
        $("diff-from").appendChild(wy.el("option", { value: v.version, text: v.version }));
        $("diff-to").appendChild(wy.el("option", { value: v.version, text: v.version }));
      });
      if (data.versions.length > 1) { $("diff-from").selectedIndex = 1; $("diff-to").selectedIndex = 0; }
      var hist = $("history");
      wy.clear(hist);
      data.history.forEach(function (h) {
        var what = { build: "完整构建", refresh: "增量刷新", rollback: "回滚" }[h.action] || h.action;
        hist.appendChild(wy.el("li", { text: h.time.replace("T", " ").replace("+00:00", "") + " · " + what + " · " + (h.from || "—") + " → " + h.to + (h.user ? " · " + h.user : "") }));
      });
      if (data.running_job) watch(data.running_job.id);
    });
  }

  function showJob(job) {
    $("job").hidden = false;
    var label = job.stage_label || "准备中";
    $("job-stage").textContent = (job.status === "running" ? "进行中：" : job.status === "done" ? "完成：" : "失败：") + label;
    var pct = job.status === "done" ? 100 : (job.percent || 0);
    $("job-bar").style.width = pct + "%";
    $("job-count").textContent = job.total ? (job.done + " / " + job.total + "（" + pct + "%）· 已用 " + job.elapsed + " 秒") : ("已用 " + job.elapsed + " 秒");
    var notes = $("job-notes");
    wy.clear(notes);
    job.notes.forEach(function (n) { notes.appendChild(wy.el("li", { text: n })); });
    if (job.result) notes.appendChild(wy.el("li", { text: job.result.summary }));
    if (job.error) notes.appendChild(wy.el("li", { class: "problems", text: job.error }));
    var problems = $("job-problems");
    wy.clear(problems);
    job.problems.forEach(function (p) { problems.appendChild(wy.el("li", { text: p.path + " 第 " + p.line + " 行：" + p.reason })); });
    $("refresh").disabled = $("rebuild").disabled = job.status === "running";
  }

  function watch(jobId) {
    var source = new EventSource("/api/admin/jobs/" + jobId + "/events");
    source.onmessage = function (e) {
      var job = JSON.parse(e.data);
      showJob(job);
      if (job.status !== "running") { source.close(); loadIndex(); }
    };
    source.onerror = function () { source.close(); setTimeout(function () { wy.get("/api/admin/jobs/" + jobId).then(function (d) { showJob(d.job); if (d.job.status === "running") watch(jobId); else loadIndex(); }); }, 1000); };
  }

  function startJob(full) {
    wy.post("/api/admin/index/refresh", { full: full }).then(function (d) { showJob(d.job); watch(d.job.id); })
      .catch(function (e) { $("job").hidden = false; $("job-stage").textContent = e.message; });
  }
  $("refresh").addEventListener("click", function () { startJob(false); });
  $("rebuild").addEventListener("click", function () { if (confirm("完整重建会重新计算全部向量，需要几分钟，确定吗？")) startJob(true); });

  function rollback(version) {
    if (!confirm("确定让版本 " + version + " 重新开始服务吗？")) return;
    wy.post("/api/admin/index/rollback", { version: version }).then(loadIndex).catch(function (e) { alert(e.message); });
  }

  $("diff").addEventListener("click", function () {
    var out = $("diff-result");
    wy.clear(out);
    wy.get("/api/admin/index/diff?from=" + encodeURIComponent($("diff-from").value) + "&to=" + encodeURIComponent($("diff-to").value)).then(function (d) {
      out.appendChild(wy.el("p", { text: "新增 " + d.counts.added + "、修改 " + d.counts.changed + "、删除 " + d.counts.removed + " 个片段；变更文件：" + (d.documents.changed.concat(d.documents.added, d.documents.removed).join("、") || "无") }));
      [["added", "新增"], ["changed", "修改"], ["removed", "删除"]].forEach(function (pair) {
        if (!d[pair[0]].length) return;
        var ul = wy.el("ul", { class: "notes" });
        d[pair[0]].forEach(function (r) { ul.appendChild(wy.el("li", { text: pair[1] + "：" + r.title })); });
        out.appendChild(ul);
      });
    }).catch(function (e) { out.appendChild(wy.el("p", { class: "error", text: e.message })); });
  });

  // ---- knowledge files -------------------------------------------------------
  var editing = null;
  function loadFiles() {
    wy.get("/api/admin/knowledge").then(function (d) {
      var list = $("files");
      wy.clear(list);
      var group = null;
      d.files.forEach(function (f) {
        var g = f.folder || "其他";
        if (g !== group) { group = g; list.appendChild(wy.el("li", { class: "group", text: { policies: "法规政策", entries: "知识库条目", cases: "案例", experts: "专家", lexicon: "分词词典" }[g] || g })); }
        list.appendChild(wy.el("li", { text: f.path, "data-path": f.path, onclick: function () { openFile(f.path); } }));
      });
    });
  }
  function setEditor(path, content) {
    editing = path;
    $("edit-path").textContent = path;
    $("content").value = content;
    ["content", "validate", "save", "delete"].forEach(function (id) { $(id).disabled = false; });
    wy.clear($("file-problems"));
    $("file-status").textContent = "";
    Array.prototype.forEach.call(document.querySelectorAll("#files li"), function (li) { li.classList.toggle("active", li.dataset.path === path); });
  }
  function openFile(path) { wy.get("/api/admin/knowledge/file?path=" + encodeURIComponent(path)).then(function (d) { setEditor(d.path, d.content); }); }
  function showProblems(problems) {
    var ul = $("file-problems");
    wy.clear(ul);
    (problems || []).forEach(function (p) { ul.appendChild(wy.el("li", { text: p.path + " 第 " + p.line + " 行：" + p.reason })); });
  }
  $("new-file").addEventListener("click", function () {
    var path = $("new-path").value.trim();
    if (!path) return;
    setEditor(path, path.indexOf("entries/") === 0 ? "provenance: 由本中心工作人员撰写（" + new Date().getFullYear() + "）\nentries:\n  - id: \n    question: \n    variants: []\n    answer: |\n      \n    ip_type: general\n    services: [consultation]\n    references: []\n" : "");
  });
  $("validate").addEventListener("click", function () {
    wy.post("/api/admin/knowledge/validate", { path: editing, content: $("content").value }).then(function (d) {
      $("file-status").textContent = d.ok ? "校验通过，可以保存。" : "有 " + d.problems.length + " 处错误：";
      showProblems(d.problems);
    }).catch(function (e) { $("file-status").textContent = e.message; });
  });
  $("save").addEventListener("click", function () {
    wy.put("/api/admin/knowledge/file", { path: editing, content: $("content").value }).then(function (d) {
      $("file-status").textContent = d.hint; showProblems([]); loadFiles();
    }).catch(function (e) { $("file-status").textContent = e.message; showProblems(e.data.problems); });
  });
  $("delete").addEventListener("click", function () {
    if (!confirm("确定删除 " + editing + " 吗？（会保留一份备份）")) return;
    wy.del("/api/admin/knowledge/file?path=" + encodeURIComponent(editing)).then(function () { $("file-status").textContent = "已删除。点击“刷新索引”生效。"; loadFiles(); })
      .catch(function (e) { $("file-status").textContent = e.message; showProblems(e.data.problems); });
  });

  // ---- drafts from the expert desk -------------------------------------------
  var IP = { patent: "专利", trademark: "商标", copyright: "著作权", trade_secret: "商业秘密", geographical_indication: "地理标志", plant_variety: "植物新品种", ic_layout: "集成电路布图设计", unfair_competition: "反不正当竞争", ecommerce: "电子商务", general: "综合" };
  function loadDrafts() {
    wy.get("/api/admin/drafts").then(function (d) {
      var box = $("drafts");
      wy.clear(box);
      $("drafts-empty").hidden = d.drafts.length > 0;
      d.drafts.forEach(function (draft) {
        var q = wy.el("input", { value: draft.question, style: "width:100%" });
        var variants = wy.el("input", { value: (draft.variants || []).join("；"), placeholder: "其他问法，用“；”分隔", style: "width:100%" });
        var a = wy.el("textarea", { rows: "6", style: "width:100%" }); a.value = draft.answer;
        var ip = wy.el("select");
        Object.keys(IP).forEach(function (k) { var o = wy.el("option", { value: k, text: IP[k] }); if (k === draft.ip_type) o.selected = true; ip.appendChild(o); });
        var refs = wy.el("textarea", { rows: "3", style: "width:100%", placeholder: "每行一条：法规名称|第X条" });
        refs.value = (draft.references || []).map(function (r) { return r.law + "|" + r.article; }).join("\n");
        var status = wy.el("div", { class: "status" }), problems = wy.el("ul", { class: "problems" });
        function collect() {
          return { question: q.value, answer: a.value, ip_type: ip.value,
            variants: variants.value.split(/[；;]/).map(function (x) { return x.trim(); }).filter(Boolean),
            references: refs.value.split("\n").map(function (l) { var p = l.split("|"); return p.length === 2 ? { law: p[0].trim(), article: p[1].trim() } : null; }).filter(Boolean) };
        }
        box.appendChild(wy.el("div", { class: "panel" }, [
          wy.el("div", { class: "muted", text: "#" + draft.id + " · " + draft.created_by + " · " + (draft.created_at || "").slice(0, 16).replace("T", " ") }),
          wy.el("label", {}, ["问题", q]), wy.el("label", {}, ["其他问法", variants]), wy.el("label", {}, ["回答", a]),
          wy.el("label", {}, ["类型 ", ip]), wy.el("label", {}, ["依据", refs]),
          wy.el("div", { class: "row" }, [
            wy.el("button", { type: "button", class: "primary", text: "发布并刷新索引", onclick: function () {
              wy.post("/api/admin/drafts/" + draft.id + "/publish", collect()).then(function (r) {
                status.textContent = "已发布为 " + r.entry_id + "，正在刷新索引……"; watch(r.job.id); setTimeout(loadDrafts, 1500);
              }).catch(function (e) { status.textContent = e.message; wy.clear(problems); (e.data.problems || []).forEach(function (p) { problems.appendChild(wy.el("li", { text: p.path + " 第 " + p.line + " 行：" + p.reason })); }); });
            } }),
            wy.el("button", { type: "button", text: "退回", onclick: function () {
              wy.post("/api/admin/drafts/" + draft.id + "/reject", { note: "" }).then(loadDrafts);
            } })
          ]), status, problems
        ]));
      });
    });
  }

  // ---- users -----------------------------------------------------------------
  var ROLE = { agent: "热线坐席", expert: "专家", admin: "管理员" };
  function loadUsers() {
    wy.get("/api/admin/users").then(function (d) {
      var body = document.querySelector("#users tbody");
      wy.clear(body);
      d.users.forEach(function (u) {
        body.appendChild(wy.el("tr", {}, [
          wy.el("td", { text: u.username }), wy.el("td", { text: u.display_name }), wy.el("td", { text: ROLE[u.role] || u.role }),
          wy.el("td", { text: u.expert_id || "" }), wy.el("td", { text: (u.last_login_at || "").replace("T", " ").slice(0, 19) }),
          wy.el("td", { text: u.active ? "启用" : "停用" }),
          wy.el("td", {}, [wy.el("button", { type: "button", text: u.active ? "停用" : "启用", onclick: function () {
            wy.post("/api/admin/users/" + encodeURIComponent(u.username) + "/active", { active: !u.active }).then(loadUsers).catch(function (e) { $("user-status").textContent = e.message; });
          } })])
        ]));
      });
    });
  }
  $("user-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var data = {};
    new FormData(e.target).forEach(function (v, k) { data[k] = v; });
    wy.post("/api/admin/users", data).then(function () { $("user-status").textContent = "已添加 " + data.username; e.target.reset(); loadUsers(); })
      .catch(function (err) { $("user-status").textContent = err.message; });
  });

  loadIndex();
})();
