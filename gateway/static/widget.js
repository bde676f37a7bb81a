/*
 * 维援 website widget. Embed with one tag:
 *   <script src="https://GATEWAY/widget.js" data-title="…" data-color="#c62f2f"
 *           data-position="right|left" data-welcome="…"></script>
 * Everything renders inside a shadow root (no style clashes with the host page).
 * All text is inserted with textContent: nothing the user, the bot or an expert
 * writes is ever interpreted as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__weiyuanWidget) return;
  window.__weiyuanWidget = true;
  var base = new URL(script.src, location.href).origin;
  // The gateway fills in its configured defaults (settings gateway.widget_*) when it serves this file.
  var DEFAULTS = /*WEIYUAN_DEFAULTS*/{ title: "知识产权维权援助咨询", color: "#c62f2f", welcome: "您好！" };
  var COLOR = /^#[0-9a-fA-F]{3,8}$/;
  var cfg = {
    title: script.dataset.title || DEFAULTS.title,
    color: COLOR.test(script.dataset.color || "") ? script.dataset.color : (COLOR.test(DEFAULTS.color) ? DEFAULTS.color : "#c62f2f"),
    position: script.dataset.position === "left" ? "left" : "right",
    welcome: script.dataset.welcome || DEFAULTS.welcome
  };
  var STORE = "weiyuan_session";
  var state = { session: null, lastId: 0, busy: false, open: false, polling: null, handedOver: false, seen: {} };

  var host = document.createElement("div");
  host.id = "weiyuan-widget";
  document.body.appendChild(host);
  var root = host.attachShadow({ mode: "open" });

  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif}",
    ".launcher{position:fixed;bottom:20px;" + cfg.position + ":20px;z-index:2147483000;border:0;border-radius:28px;padding:12px 20px;font-weight:600;background:" + cfg.color + ";color:#fff;font-size:15px;box-shadow:0 6px 20px rgba(0,0,0,.2);cursor:pointer}",
    ".panel{position:fixed;bottom:84px;" + cfg.position + ":20px;z-index:2147483001;width:380px;height:600px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.25);display:none;flex-direction:column;overflow:hidden;color:#1f2328}",
    ".panel.open{display:flex}",
    ".head{background:" + cfg.color + ";color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    ".head .t{flex:1;font-weight:600;font-size:15px}",
    ".head button{background:rgba(255,255,255,.18);border:0;color:#fff;border-radius:6px;padding:4px 8px;cursor:pointer;font-size:13px}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9;display:flex;flex-direction:column;gap:10px}",
    ".msg{max-width:88%;padding:9px 12px;border-radius:12px;font-size:14px;line-height:1.6;white-space:pre-wrap;word-break:break-word}",
    ".user{align-self:flex-end;background:" + cfg.color + ";color:#fff;border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e4e7ec;border-bottom-left-radius:4px}",
    ".expert{align-self:flex-start;background:#ecfdf3;border:1px solid #abefc6}",
    ".system{align-self:center;background:none;color:#667085;font-size:12px;padding:2px}",
    ".who{display:block;font-size:12px;color:#067647;margin-bottom:2px;font-weight:600}",
    ".cites{margin-top:6px;font-size:12px;color:#475467}",
    ".cites a{color:#1d4ed8;margin-right:8px;text-decoration:none}",
    ".btns{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}",
    ".btns button{border:1px solid " + cfg.color + ";color:" + cfg.color + ";background:#fff;border-radius:14px;padding:3px 10px;font-size:13px;cursor:pointer}",
    ".rate{margin-top:6px;display:flex;gap:6px;align-items:center;font-size:12px;color:#667085}",
    ".rate button{border:1px solid #e4e7ec;background:#fff;border-radius:10px;padding:1px 8px;cursor:pointer}",
    ".rate button.on{border-color:" + cfg.color + ";background:#fef3f2}",
    ".why{margin-top:8px;padding-top:6px;border-top:1px dashed #e4e7ec;font-size:12px;color:#475467}",
    ".why .btns{margin-top:4px}.why .btns button.on{background:" + cfg.color + ";color:#fff}",
    ".why .to-human{margin-top:6px;border:0;background:" + cfg.color + ";color:#fff;border-radius:14px;padding:4px 12px;font-size:13px;cursor:pointer}",
    ".why .to-human:disabled{opacity:.5}",
    ".why-other{display:flex;gap:6px;margin-top:6px}.why-other[hidden]{display:none}",
    ".why-other input{flex:1;min-width:0;border:1px solid #d0d5dd;border-radius:6px;padding:4px 6px;font-size:13px}",
    ".why-other button{border:0;background:" + cfg.color + ";color:#fff;border-radius:6px;padding:4px 10px;font-size:13px;cursor:pointer}",
    ".why-other button:disabled{opacity:.5}",
    ".typing{align-self:flex-start;color:#667085;font-size:13px;padding:4px 10px}",
    ".typing i{display:inline-block;width:6px;height:6px;margin:0 1px;border-radius:50%;background:#98a2b3;animation:b 1s infinite}",
    ".typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}",
    "@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}",
    ".err{align-self:center;color:#b42318;background:#fef3f2;border:1px solid #fecdca;font-size:13px;border-radius:8px;padding:6px 10px}",
    ".err button{margin-left:6px;font-size:12px}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e7ec;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #d0d5dd;border-radius:10px;padding:8px 10px;font-size:14px;height:42px;max-height:120px}",
    "form button{border:0;background:" + cfg.color + ";color:#fff;border-radius:10px;padding:0 16px;font-size:14px;cursor:pointer}",
    "form button:disabled{opacity:.5}",
    ".foot{font-size:11px;color:#98a2b3;text-align:center;padding:0 8px 6px;background:#fff}",
    "@media (max-width:520px){.panel{left:0;right:0;bottom:0;width:100%;height:100%;max-height:100%;border-radius:0}.launcher{bottom:14px;" + cfg.position + ":14px}}"
  ].join("\n");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  var style = el("style");
  style.textContent = css;
  root.appendChild(style);
  var launcher = el("button", "launcher", cfg.title);
  launcher.type = "button";
  launcher.setAttribute("aria-label", "打开咨询窗口");
  var panel = el("div", "panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", cfg.title);
  var head = el("div", "head");
  head.appendChild(el("span", "t", cfg.title));
  var humanBtn = el("button", "human", "转人工");
  humanBtn.type = "button";
  var closeBtn = el("button", "close", "✕");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", "关闭");
  head.appendChild(humanBtn);
  head.appendChild(closeBtn);
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("textarea");
  input.placeholder = "请输入您的问题，Enter 发送";
  input.maxLength = 1000;
  input.setAttribute("aria-label", "输入问题");
  var sendBtn = el("button", null, "发送");
  sendBtn.type = "submit";
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  panel.appendChild(el("div", "foot", "回答为一般性指引，不构成法律意见 · 维权援助热线 12330"));
  if (DEFAULTS.privacy) panel.appendChild(el("div", "foot", DEFAULTS.privacy));
  root.appendChild(launcher);
  root.appendChild(panel);

  function api(path, body) {
    var opts = body === undefined ? { method: "GET" } : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    return fetch(base + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error((data.error && data.error.message) || "网络错误，请稍后再试"); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function kbLink(params, label) {
    var a = el("a", null, label);
    a.href = base + "/kb?" + new URLSearchParams(params).toString();
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  function render(m) {
    if (m.id && state.seen[m.id]) return;
    if (m.id) { state.seen[m.id] = true; state.lastId = Math.max(state.lastId, m.id); }
    var meta = m.meta || {};
    if (m.role === "user") { log.appendChild(el("div", "msg user", m.text)); return; }
    if (m.role === "system") { log.appendChild(el("div", "msg system", m.text)); return; }
    var box = el("div", "msg " + (m.role === "expert" ? "expert" : "bot"));
    if (m.role === "expert") box.appendChild(el("span", "who", (m.author || "专家") + "（人工）"));
    box.appendChild(document.createTextNode(m.text || ""));
    if (meta.type === "answer") {
      var cites = el("div", "cites");
      // the first few sources as links; the rest behind one click (an entry may rest on many articles)
      var all = meta.citations || [], SHOWN = 4;
      all.slice(0, SHOWN).forEach(function (c) { cites.appendChild(kbLink({ law: c.law, article: c.article }, c.label)); });
      if (all.length > SHOWN) {
        var more = el("a", "", "更多依据（" + (all.length - SHOWN) + "）");
        more.href = "#";
        more.addEventListener("click", function (e) {
          e.preventDefault();
          more.remove();
          all.slice(SHOWN).forEach(function (c) { cites.insertBefore(kbLink({ law: c.law, article: c.article }, c.label), cites.lastChild && cites.lastChild.textContent === "查看原文" ? cites.lastChild : null); });
        });
        cites.appendChild(more);
      }
      if (meta.best && meta.best.kind !== "policy") cites.appendChild(kbLink({ id: meta.best.id }, "查看原文"));
      if (cites.childNodes.length) box.appendChild(cites);
      var rate = el("div", "rate");
      rate.appendChild(el("span", null, "这个回答："));
      var why = null;  // after a 👎: what was wrong (optional) and the way to a person
      [[1, "有帮助"], [-1, "没帮助"]].forEach(function (pair) {
        var b = el("button", null, pair[1]);
        b.type = "button";
        b.addEventListener("click", function () {
          api("/api/chat/feedback", { session: state.session, answer_id: meta.answer_id, rating: pair[0] })
            .then(function () {
              Array.prototype.forEach.call(rate.querySelectorAll("button"), function (x) { x.classList.remove("on"); });
              b.classList.add("on");
              if (why) { why.remove(); why = null; }
              if (pair[0] < 0) { why = reasonBox(meta.answer_id); box.appendChild(why); scroll(); }
            })
            .catch(function (e) { showError(e.message); });
        });
        rate.appendChild(b);
      });
      box.appendChild(rate);
    }
    if (meta.type === "handoff") { state.handedOver = true; startPolling(); }
    if (m.buttons && m.buttons.length) {
      var btns = el("div", "btns");
      m.buttons.forEach(function (btn) {
        var b = el("button", null, btn.title);
        b.type = "button";
        b.addEventListener("click", function () { send(btn.payload, btn.title); });
        btns.appendChild(b);
      });
      box.appendChild(btns);
    }
    log.appendChild(box);
  }

  var REASONS = [["off_point", "没答到点上"], ["wrong_basis", "依据不对"], ["too_general", "太笼统"], ["other", "其他"]];

  // The one optional question after a 👎, and the existing hand-over (the same /request_human as the 转人工 button).
  function reasonBox(answerId) {
    var wrap = el("div", "why");
    var ask = el("div", "why-q", "哪里不满意？（可不选）");
    wrap.appendChild(ask);
    var choices = el("div", "btns");
    REASONS.forEach(function (pair) {
      var b = el("button", "reason", pair[1]);
      b.type = "button";
      b.setAttribute("data-reason", pair[0]);
      b.addEventListener("click", function () {
        api("/api/chat/feedback", { session: state.session, answer_id: answerId, rating: -1, reason: pair[0] })
          .then(function () {
            Array.prototype.forEach.call(choices.querySelectorAll("button"), function (x) { x.classList.remove("on"); });
            b.classList.add("on");
            ask.textContent = "谢谢，已记录。需要的话可以请人工专家继续帮您：";
            other.hidden = pair[0] !== "other";
            if (!other.hidden) note.focus();
          })
          .catch(function (e) { showError(e.message); });
      });
      choices.appendChild(b);
    });
    wrap.appendChild(choices);
    // "其他": one optional line saying what was wrong (stored redacted, cleared after the retention period)
    var other = el("div", "why-other");
    other.hidden = true;
    var note = el("input");
    note.type = "text";
    note.maxLength = 200;
    note.placeholder = "请简单说说哪里不对（可不填，请勿填写电话等个人信息）";
    var submit = el("button", "why-send", "提交");
    submit.type = "button";
    submit.addEventListener("click", function () {
      var text = note.value.trim();
      if (!text) { note.focus(); return; }
      submit.disabled = true;
      api("/api/chat/feedback", { session: state.session, answer_id: answerId, rating: -1, reason: "other", comment: text })
        .then(function () { other.replaceChildren(el("span", "why-done", "已收到您的意见，谢谢。")); })
        .catch(function (e) { submit.disabled = false; showError(e.message); });
    });
    note.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); submit.click(); } });
    other.appendChild(note);
    other.appendChild(submit);
    wrap.appendChild(other);
    var human = el("button", "to-human", "转人工专家");
    human.type = "button";
    human.addEventListener("click", function () { if (state.busy) return; human.disabled = true; send("/request_human", "转人工专家"); });
    wrap.appendChild(human);
    return wrap;
  }

  var typing = el("div", "typing");
  typing.appendChild(document.createTextNode("正在查找依据 "));
  for (var i = 0; i < 3; i++) typing.appendChild(el("i"));

  function showError(message, retry) {
    var box = el("div", "err", message);
    if (retry) {
      var b = el("button", null, "重试");
      b.type = "button";
      b.addEventListener("click", function () { box.remove(); retry(); });
      box.appendChild(b);
    }
    log.appendChild(box);
    scroll();
  }

  function newId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function send(text, display, clientId) {
    text = (text || "").trim();
    if (!text || state.busy) return;
    clientId = clientId || newId();  // the same id on a retry: the gateway never stores a message twice
    state.busy = true;
    sendBtn.disabled = true;
    var shown = display || text;
    var pending = el("div", "msg user", shown);
    log.appendChild(pending);
    log.appendChild(typing);
    scroll();
    api("/api/chat/send", { session: state.session, text: text, display: display || null, client_id: clientId })
      .then(function (data) {
        pending.remove();
        typing.remove();
        (data.messages || []).forEach(render);
        if (data.waiting_for_expert) log.appendChild(el("div", "msg system", "已转给人工专家，回复会显示在这里。"));
        scroll();
      })
      .catch(function (e) {
        typing.remove();
        if (e.status === 502) startPolling();  // the gateway relays the kept message once the bot is back
        // 502: kept, answered later (retry is safe); 503 or no answer at all: not kept, so offer to send again
        var again = e.status === 502 || e.status === 503 || !e.status;
        showError(e.message, again ? function () { pending.remove(); send(text, display, clientId); } : null);
      })
      .then(function () { state.busy = false; sendBtn.disabled = false; input.focus(); });
  }

  function poll() {
    if (!state.session) return;
    api("/api/chat/history?session=" + encodeURIComponent(state.session) + "&after=" + state.lastId)
      .then(function (data) {
        var fresh = (data.messages || []).filter(function (m) { return !state.seen[m.id]; });
        fresh.forEach(render);
        if (fresh.length) scroll();
      })
      .catch(function () { /* try again on the next tick */ });
  }

  function startPolling() {
    if (state.polling) return;
    state.polling = setInterval(poll, 4000);
  }

  function start() {
    var saved = null;
    try { saved = localStorage.getItem(STORE); } catch (e) { saved = null; }
    return api("/api/chat/start", { session: saved }).then(function (data) {
      state.session = data.session;
      try { localStorage.setItem(STORE, data.session); } catch (e) { /* private mode */ }
      if (!data.messages.length) render({ role: "bot", text: cfg.welcome, meta: { type: "info" } });
      data.messages.forEach(render);
      if (data.messages.some(function (m) { return m.meta && m.meta.type === "handoff"; })) startPolling();
      scroll();
    }).catch(function (e) { showError(e.message, start); });
  }

  var started = null;
  function toggle(open) {
    state.open = open;
    panel.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      if (!started) started = start();
      setTimeout(function () { input.focus(); }, 50);
    }
  }

  launcher.addEventListener("click", function () { toggle(!state.open); });
  closeBtn.addEventListener("click", function () { toggle(false); });
  humanBtn.addEventListener("click", function () { send("/request_human", "转人工"); });
  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; send(t); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.dispatchEvent(new Event("submit", { cancelable: true })); }
  });
  // reopen automatically when the visitor had a conversation going
  try { if (localStorage.getItem(STORE)) { started = start(); } } catch (e) { /* ignore */ }
  window.weiyuanWidget = { open: function () { toggle(true); }, close: function () { toggle(false); } };
})();
