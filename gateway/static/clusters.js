/* Analytics page: clusters of unanswered questions, each turned into a draft entry in one click.
   Loaded after analytics.js; follows its date range (the "analytics:range" event). Text goes in as DOM text only. */
(function () {
  "use strict";
  var root = document.getElementById("clusters");
  if (!root) return;
  var TREND = { up: "↑ 上升", down: "↓ 下降", flat: "→ 持平" };
  var REASON = { probable: "列出可能相关依据", handoff: "转人工", disliked: "👎 没帮助", declined: "判为非知识产权而婉拒" };
  var seq = 0;
  var range = null;
  var withDeclined = false;

  // the domain model can be wrong: repeated declined questions may be an IP topic no entry covers
  function declinedToggle() {
    var box = wy.el("input", { type: "checkbox", id: "clusters-declined" });
    box.checked = withDeclined;
    box.addEventListener("change", function () { withDeclined = box.checked; if (range) load(range.from, range.to); });
    return wy.el("label", { class: "cluster-toggle" }, [box, " 也包括判为非知识产权而婉拒的问题"]);
  }

  function heading() {
    return wy.el("div", { class: "row cluster-head" }, [wy.el("h2", { text: "未答好的问题聚类" }), declinedToggle()]);
  }

  function reasons(c) {
    return Object.keys(c.reasons).map(function (k) { return (REASON[k] || k) + " " + c.reasons[k]; }).join(" · ");
  }

  function nearest(c) {
    if (!c.nearest) return wy.el("p", { class: "muted", text: "最接近的现有条目：无" });
    return wy.el("p", { class: "cluster-nearest" }, [
      "最接近的现有条目：",
      wy.el("a", { href: "/kb?id=" + encodeURIComponent(c.nearest.id), target: "_blank", rel: "noopener", text: c.nearest.question }),
      wy.el("span", { class: "muted", text: "（" + c.nearest.id + "，相似度 " + c.nearest.score.toFixed(3) + "）" })
    ]);
  }

  function draftLink(id) {
    return wy.el("a", { class: "cluster-draft-link", href: "/admin#drafts", text: "草稿 #" + id + " → 去审核" });
  }

  function card(c, i) {
    var status = wy.el("span", { class: "status", "aria-live": "polite" });
    var actions = wy.el("div", { class: "row" });
    if (c.draft_id) {
      actions.appendChild(wy.el("span", { class: "muted", text: "已生成过草稿：" }));
      actions.appendChild(draftLink(c.draft_id));
    } else {
      var button = wy.el("button", { type: "button", class: "primary", text: "生成草稿条目" });
      button.addEventListener("click", function () {
        button.disabled = true;
        status.textContent = "正在生成……";
        wy.post("/api/admin/analytics/clusters/draft", { question_ids: c.draft_ids }).then(function (r) {
          wy.clear(actions);
          actions.appendChild(wy.el("span", { text: "已生成草稿（回答待撰写）：" }));
          var link = draftLink(r.draft); link.href = r.review_url;
          actions.appendChild(link);
          status.textContent = "";
        }).catch(function (e) { button.disabled = false; status.textContent = "生成失败：" + e.message; });
      });
      actions.appendChild(button);
    }
    actions.appendChild(status);
    return wy.el("article", { class: "cluster", "data-cluster": String(c.id), "data-size": String(c.size) }, [
      wy.el("h3", {}, [
        "问题组 " + (i + 1) + " · ",
        wy.el("strong", { class: "cluster-size", text: c.size + " 条" }),
        wy.el("span", { class: "cluster-trend trend-" + c.trend, title: "前半段 " + c.first_half + " 条，后半段 " + c.second_half + " 条",
          text: " " + TREND[c.trend] + "（" + c.first_half + " → " + c.second_half + "）" }),
        wy.el("span", { class: "muted", text: " · " + c.ip_label })
      ]),
      wy.el("p", { class: "muted", text: reasons(c) }),
      wy.el("ul", { class: "cluster-examples" }, c.examples.map(function (e) {
        return wy.el("li", {}, [wy.el("span", { text: e.text }), wy.el("span", { class: "muted", text: "  " + e.day })]);
      })),
      nearest(c),
      actions
    ]);
  }

  function render(data) {
    wy.clear(root);
    root.appendChild(heading());
    root.appendChild(wy.el("dl", { class: "kpis" }, [
      ["未答好的问题", data.questions], ["参与聚类", data.considered], ["成组的问题", data.clustered], ["问题组", data.clusters.length]
    ].map(function (k) { return wy.el("div", { class: "kpi" }, [wy.el("dt", { text: k[0] }), wy.el("dd", { text: String(k[1]) })]); })));
    if (!data.clusters.length) root.appendChild(wy.el("p", { class: "muted", id: "clusters-empty", text: "所选日期内没有重复出现的未答好问题。" }));
    var list = wy.el("div", { class: "cluster-list" });
    data.clusters.forEach(function (c, i) { list.appendChild(card(c, i)); });
    root.appendChild(list);
    if (data.note) root.appendChild(wy.el("p", { class: "muted", text: "注：" + data.note }));
    root.appendChild(wy.el("p", { class: "muted", text: "注：“未答好”= 只列出可能相关依据、转人工或被点 👎 的问题" +
      (data.declined ? "，以及判为非知识产权而婉拒的问题" : "") + "（脱敏后的文字，超过保存期限的不再参与）。" +
      "趋势比较所选日期前后两半的数量。生成的草稿在管理后台“待审条目”中撰写回答并发布。" }));
  }

  function load(from, to) {
    var mine = ++seq;
    range = { from: from, to: to };
    wy.clear(root);
    root.appendChild(heading());
    root.appendChild(wy.el("p", { class: "status", text: "正在聚类……" }));
    var q = "from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to) + (withDeclined ? "&declined=true" : "");
    wy.get("/api/admin/analytics/clusters?" + q).then(function (data) {
      if (mine !== seq) return;
      render(data);
      root.setAttribute("data-range", data.start + "/" + data.end);
    }).catch(function (e) {
      if (mine !== seq) return;
      wy.clear(root);
      root.appendChild(heading());
      root.appendChild(wy.el("p", { class: "error", text: "聚类失败：" + e.message }));
    });
  }

  document.addEventListener("analytics:range", function (e) { load(e.detail.from, e.detail.to); });
})();
