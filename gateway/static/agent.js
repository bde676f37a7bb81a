/* Hotline agent lookup: results as you type (debounced), keyboard-first, copy answer with citations. */
(function () {
  "use strict";
  var q = document.getElementById("q"), results = document.getElementById("results"), status = document.getElementById("status");
  var filters = ["ip_type", "kind", "region", "current_only"].map(function (id) { return document.getElementById(id); });
  var detail = document.getElementById("detail"), recentList = document.getElementById("recent");
  var hits = [], active = -1, terms = [], timer = null, seq = 0, current = null;
  var RECENT = "weiyuan_agent_recent";

  function recent() { try { return JSON.parse(sessionStorage.getItem(RECENT) || "[]"); } catch (e) { return []; } }
  function remember(text) {
    var list = recent().filter(function (t) { return t !== text; });
    list.unshift(text);
    sessionStorage.setItem(RECENT, JSON.stringify(list.slice(0, 12)));
    showRecent();
  }
  function showRecent() {
    wy.clear(recentList);
    recent().forEach(function (t) {
      recentList.appendChild(wy.el("li", {}, [wy.el("a", { text: t, onclick: function () { q.value = t; run(); q.focus(); } })]));
    });
  }

  function run() {
    var text = q.value.trim();
    if (!text) { wy.clear(results); status.textContent = ""; hits = []; return; }
    var params = new URLSearchParams({ q: text, k: "10" });
    filters.forEach(function (f) { if (f.value) params.set(f.id, f.value); });
    var mine = ++seq, started = performance.now();
    status.textContent = "检索中…";
    wy.get("/api/search?" + params.toString()).then(function (data) {
      if (mine !== seq) return;
      hits = data.hits; terms = data.highlight; active = hits.length ? 0 : -1;
      var ms = Math.round(performance.now() - started);
      status.textContent = "找到 " + hits.length + " 条 · " + ms + " 毫秒 · 置信度 " + data.confidence.toFixed(2) + ({ confident: "（可直接回答）", probable: "（可能相关，请核对）" }[data.tier] || "（把握不大，建议转专家）");
      draw();
      if (hits.length) remember(text);
    }).catch(function (e) { if (mine === seq) status.textContent = e.message; });
  }

  function draw() {
    wy.clear(results);
    hits.forEach(function (h, i) {
      var cites = h.citations.map(function (c) { return c.label; }).join("；");
      var li = wy.el("li", { class: i === active ? "active" : "", "data-index": String(i), onclick: function () { active = i; draw(); open(i); } }, [
        wy.el("h3", {}, [wy.el("span", { class: "tag", text: h.kind_label }), wy.highlighted(h.title, terms)]),
        wy.el("div", { class: "snippet" }, [wy.highlighted(h.text, terms)]),
        wy.el("div", { class: "cites", text: (cites ? "依据：" + cites + " · " : "") + h.ip_labels.join("、") + " · " + h.region })
      ]);
      results.appendChild(li);
    });
  }

  function open(i) {
    var h = hits[i];
    if (!h) return;
    wy.get("/api/chunk?id=" + encodeURIComponent(h.id)).then(function (c) {
      current = c;
      detail.hidden = false;
      document.getElementById("detail-kind").textContent = c.kind_label;
      document.getElementById("detail-title").textContent = c.title;
      document.getElementById("detail-meta").textContent = (c.heading ? c.heading + " · " : "") + "适用地区：" + c.region + " · 来源：" + c.source;
      var text = document.getElementById("detail-text");
      wy.clear(text);
      text.appendChild(wy.highlighted(c.text, terms));
      var cites = document.getElementById("detail-cites");
      wy.clear(cites);
      if (c.citations.length) {
        cites.appendChild(document.createTextNode("依据："));
        c.citations.forEach(function (x) {
          cites.appendChild(wy.el("a", { href: "/kb?law=" + encodeURIComponent(x.law) + "&article=" + encodeURIComponent(x.article), target: "_blank", text: x.label }));
          cites.appendChild(document.createTextNode(" "));
        });
      }
      document.getElementById("copied").textContent = "";
    });
  }

  function answerText(c) {
    var basis = c.citations.map(function (x) { return x.label; }).join("；");
    return c.text + (basis ? "\n依据：" + basis : "") + "\n（来源：" + c.title + "）";
  }

  document.getElementById("copy").addEventListener("click", function () {
    if (!current) return;
    var text = answerText(current), done = function () { document.getElementById("copied").textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
    else { var t = wy.el("textarea"); t.value = text; document.body.appendChild(t); t.select(); document.execCommand("copy"); t.remove(); done(); }
  });
  document.getElementById("ticket").addEventListener("click", function () {
    location.href = "/desk/new?query=" + encodeURIComponent(q.value.trim());
  });

  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
  filters.forEach(function (f) { f.addEventListener("change", run); });
  document.getElementById("search-form").addEventListener("submit", function (e) { e.preventDefault(); run(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== q) { e.preventDefault(); q.focus(); q.select(); return; }
    if (!hits.length) return;
    if (e.key === "ArrowDown") { e.preventDefault(); active = Math.min(hits.length - 1, active + 1); draw(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); active = Math.max(0, active - 1); draw(); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); open(active); }
  });
  showRecent();
})();
