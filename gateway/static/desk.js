/* Expert desk: queue with SLA timers, ticket view, claim/reply/note/hand back/close, reusable answers. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var current = null;
  var KIND = { handoff: "转人工", application: "援助申请", hotline: "热线" };
  var IP = { patent: "专利", trademark: "商标", copyright: "著作权", trade_secret: "商业秘密", geographical_indication: "地理标志", plant_variety: "植物新品种", ic_layout: "集成电路布图设计", unfair_competition: "反不正当竞争", ecommerce: "电子商务", general: "综合" };
  function ipLabel(code) { return code ? (IP[code] || code) : "类型未知"; }
  var REASON = { user_request: "用户要求", needs_person: "需人工（期限）", low_confidence: "机器人没把握", nlu_fallback: "未能理解", application: "援助申请", hotline: "热线来电" };

  function sla(t) {
    if (t.first_response_at) return wy.el("span", { class: "sla-ok", text: "已首次回复" });
    if (t.minutes_to_first_response == null) return wy.el("span");
    var m = t.minutes_to_first_response;
    if (m < 0) return wy.el("span", { class: "sla-late", text: "首次回复已超时 " + (-m) + " 分钟" });
    return wy.el("span", { class: m < 60 ? "sla-warn" : "sla-ok", text: "首次回复剩余 " + (m >= 120 ? Math.round(m / 60) + " 小时" : m + " 分钟") });
  }

  function loadQueue() {
    var params = new URLSearchParams({ scope: $("scope").value, ip_type: $("f-ip").value, region: $("f-region").value, priority: $("f-priority").value });
    wy.get("/api/desk/tickets?" + params.toString()).then(function (d) {
      var list = $("queue");
      wy.clear(list);
      $("queue-empty").hidden = d.tickets.length > 0;
      d.tickets.forEach(function (t) {
        list.appendChild(wy.el("li", { class: current === t.number ? "active" : "", "data-number": t.number, onclick: function () { open(t.number); } }, [
          wy.el("div", { class: "row" }, [wy.el("strong", { text: t.number }), wy.el("span", { class: "tag" + (t.priority === "high" ? "" : " gray"), text: t.priority === "high" ? "紧急" : KIND[t.kind] || t.kind }), wy.el("span", { class: "tag gray", text: t.status_label }), sla(t)]),
          wy.el("div", { text: t.preview || "（无内容）" }),
          wy.el("div", { class: "muted", text: (REASON[t.reason] || t.reason) + " · " + ipLabel(t.ip_type) + " · " + (t.region || "地区未知") + (t.assigned_expert ? " · " + t.assigned_expert : "") + (t.reroutes ? " · 改派 " + t.reroutes + " 次" : "") })
        ]));
      });
    });
  }

  function bubble(role, text, who) {
    var cls = role === "user" ? "user" : role === "bot" ? "bot" : role === "note" ? "note" : "expert";
    var label = { user: "用户", bot: "机器人", expert: who || "专家", note: "内部备注 · " + (who || "") }[role] || role;
    return wy.el("div", { class: "bubble " + cls }, [wy.el("div", { class: "muted", text: label }), text]);
  }

  function open(number) {
    current = number;
    wy.get("/api/desk/tickets/" + encodeURIComponent(number)).then(function (t) {
      $("ticket").hidden = false;
      $("t-title").textContent = number + " · " + (KIND[t.kind] || t.kind);
      $("t-status").textContent = t.status_label;
      var s = $("t-sla"); wy.clear(s); s.appendChild(sla(t));
      $("t-meta").textContent = (REASON[t.reason] || t.reason) + " · 类型 " + ipLabel(t.ip_type) + " · 地区 " + (t.region || "未知") + " · 渠道 " + t.channel + (t.claimed_by ? " · 认领人 " + t.claimed_by : "") + (t.bot_paused ? " · 机器人已暂停" : "");
      var c = t.contact || {}, contact = $("t-contact");
      wy.clear(contact);
      if (t.contact_hidden) contact.appendChild(wy.el("p", { class: "muted", text: "联系方式仅对处理这张工单的专家和管理员可见；认领后可查看。" }));
      if (c.company_name || c.contact_name || c.phone) contact.appendChild(wy.el("p", { text: "联系人：" + [c.company_name, c.contact_name, c.phone].filter(Boolean).join(" · ") + (c.consent ? "（同意回访）" : "") }));
      if (c.description) contact.appendChild(wy.el("p", { text: "情况说明：" + c.description }));
      var tr = $("t-transcript");
      wy.clear(tr);
      t.transcript.forEach(function (m) { tr.appendChild(bubble(m.role, m.text)); });
      t.messages.forEach(function (m) { tr.appendChild(bubble(m.internal ? "note" : m.role, m.text, m.author)); });
      tr.scrollTop = tr.scrollHeight;
      var hits = $("t-hits");
      wy.clear(hits);
      var r = t.retrieval || {};
      if (r.query) hits.appendChild(wy.el("p", { class: "muted", text: "检索：" + r.query + " · 置信度 " + (r.confidence != null ? r.confidence : "—") }));
      (r.hits || []).forEach(function (h) {
        hits.appendChild(wy.el("div", { class: "panel" }, [wy.el("strong", { text: h.title }), wy.el("div", { class: "muted", text: (h.citations || []).map(function (x) { return "《" + x.law + "》" + x.article; }).join("；") }), wy.el("div", { text: h.text })]));
      });
      $("claim").disabled = !!t.claimed_by;
      $("handback").disabled = !t.bot_paused;
      loadQueue();
    });
  }

  function act(action, data) {
    return wy.post("/api/desk/tickets/" + encodeURIComponent(current) + "/" + action, data || {})
      .then(function (d) { $("t-status-line").textContent = "已完成"; open(current); return d; })
      .catch(function (e) { $("t-status-line").textContent = e.message; throw e; });
  }

  $("claim").addEventListener("click", function () { act("claim"); });
  $("handback").addEventListener("click", function () { act("hand-back"); });
  $("close").addEventListener("click", function () { act("close", { resolution: $("resolution").value }); });
  $("note").addEventListener("click", function () { var text = $("reply").value; act("note", { text: text }).then(function () { $("reply").value = ""; }); });
  $("send").addEventListener("click", function () {
    var text = $("reply").value;
    act("reply", { text: text }).then(function (d) {
      $("reply").value = "";
      if (!$("reusable").checked) return;
      var t = d.ticket, userTurns = t.transcript.filter(function (m) { return m.role === "user"; });
      var question = (t.retrieval && t.retrieval.query) || (userTurns.length ? userTurns[userTurns.length - 1].text : "");
      var refs = [];
      ((t.retrieval || {}).hits || []).slice(0, 2).forEach(function (h) { (h.citations || []).forEach(function (c) { if (refs.length < 3) refs.push(c); }); });
      return wy.post("/api/desk/tickets/" + encodeURIComponent(current) + "/draft", { question: question, answer: text, ip_type: t.ip_type || "general", references: refs })
        .then(function (r) { $("t-status-line").textContent = "已发送，并存为知识草稿 #" + r.draft + "（等待管理员审核）"; $("reusable").checked = false; });
    });
  });
  ["scope", "f-ip", "f-region", "f-priority"].forEach(function (id) { $(id).addEventListener("change", loadQueue); });
  loadQueue();
  setInterval(function () { loadQueue(); if (current) { /* refresh SLA timers and new user messages */ } }, 15000);
})();
