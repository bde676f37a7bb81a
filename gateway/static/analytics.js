/* Analytics dashboard: date range, headline figures, ECharts charts (each with its data as a table), CSV and report links. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var COLORS = ["#c62f2f", "#1d4ed8", "#1a7f37", "#b54708", "#6941c6", "#0e9384", "#667085", "#e04f16", "#2e90fa", "#dd2590"];
  var charts = [];
  var hasCharts = typeof window.echarts !== "undefined";

  function iso(d) { return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0"); }
  /* today in China (from the server), as a local Date for the arithmetic below */
  function today() { var p = ($("range").dataset.today || iso(new Date())).split("-"); return new Date(+p[0], +p[1] - 1, +p[2]); }
  function setRange(from, to) { $("from").value = iso(from); $("to").value = iso(to); }
  function daysBack(n) { var to = today(); var from = today(); from.setDate(to.getDate() - (n - 1)); setRange(from, to); }

  function sum(chart) {
    var total = 0;
    chart.series.forEach(function (s) { s.data.forEach(function (v) { total += v || 0; }); });
    return total;
  }

  function option(chart) {
    var base = {
      color: COLORS,
      animation: false,
      textStyle: { fontFamily: "PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif" },
      tooltip: { trigger: chart.kind === "pie" ? "item" : "axis", confine: true },
      grid: { left: 12, right: 16, top: chart.series.length > 1 ? 36 : 16, bottom: 8, containLabel: true }
    };
    if (!sum(chart)) base.title = { text: "所选日期内没有数据", left: "center", top: "middle", textStyle: { color: "#98a2b3", fontSize: 14, fontWeight: "normal" } };
    if (chart.series.length > 1 || chart.kind === "pie") base.legend = { type: "scroll", top: 0 };
    if (chart.kind === "pie") {
      base.legend = { type: "scroll", orient: "vertical", right: 0, top: "middle" };
      base.series = [{ type: "pie", radius: ["35%", "68%"], center: ["38%", "52%"], name: chart.series[0].name,
        label: { formatter: "{b}：{c}" },
        data: chart.categories.map(function (c, i) { return { name: c, value: chart.series[0].data[i] }; }).filter(function (d) { return d.value; }) }];
      return base;
    }
    var categoryAxis = { type: "category", data: chart.categories, axisLabel: { hideOverlap: true } };
    var valueAxis = { type: "value", minInterval: 1, name: chart.unit || "" };
    if (chart.kind === "hbar") { categoryAxis.inverse = true; base.xAxis = valueAxis; base.yAxis = categoryAxis; }
    else { base.xAxis = categoryAxis; base.yAxis = valueAxis; }
    if (chart.categories.length > 12 && chart.kind !== "hbar") categoryAxis.axisLabel.rotate = 30;
    base.series = chart.series.map(function (s) {
      return { name: s.name, type: chart.kind === "line" ? "line" : "bar", data: s.data,
        stack: chart.kind === "stacked" ? "total" : undefined, showSymbol: chart.categories.length <= 45,
        barMaxWidth: 42, emphasis: { focus: "series" } };
    });
    return base;
  }

  function dataTable(chart) {
    var head = wy.el("tr", {}, [wy.el("th", { text: "" })].concat(chart.series.map(function (s) { return wy.el("th", { text: s.name }); })));
    var rows = chart.categories.map(function (c, i) {
      return wy.el("tr", {}, [wy.el("td", { text: c })].concat(chart.series.map(function (s) { return wy.el("td", { text: String(s.data[i] == null ? "—" : s.data[i]) }); })));
    });
    return wy.el("table", { class: "grid" }, [wy.el("thead", {}, [head]), wy.el("tbody", {}, rows)]);
  }

  function kpiCard(k) {
    var value = k.value == null ? "—" : String(k.value) + (k.unit || "");
    var children = [wy.el("dt", { text: k.label }), wy.el("dd", { text: value })];
    if (k.hint) children.push(wy.el("small", { text: k.hint }));
    return wy.el("div", { class: "kpi" }, children);
  }

  function tableOf(t) {
    return wy.el("table", { class: "grid" }, [
      wy.el("thead", {}, [wy.el("tr", {}, t.headers.map(function (h) { return wy.el("th", { text: h }); }))]),
      wy.el("tbody", {}, t.rows.map(function (r) {
        return wy.el("tr", { class: r[0] === "合计" ? "total" : "" }, r.map(function (c) { return wy.el("td", { text: c == null ? "—" : String(c) }); }));
      }))
    ]);
  }

  function render(data) {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    var root = $("panels");
    wy.clear(root);
    data.panels.forEach(function (panel) {
      var block = wy.el("section", { class: "panel-block", id: "panel-" + panel.id }, [wy.el("h2", { text: panel.title })]);
      if (panel.kpis.length) block.appendChild(wy.el("dl", { class: "kpis" }, panel.kpis.map(kpiCard)));
      var grid = wy.el("div", { class: "charts" });
      panel.charts.forEach(function (chart) {
        var box = wy.el("div", { class: "chart-box" + (chart.kind === "line" || chart.id.indexOf("per_day") !== -1 ? " wide" : "") }, [wy.el("h3", { text: chart.title })]);
        var target = wy.el("div", { class: "chart", id: "chart-" + chart.id, "data-sum": String(sum(chart)), "data-points": String(chart.categories.length) });
        if (hasCharts) box.appendChild(target);
        if (chart.note) box.appendChild(wy.el("p", { class: "muted", text: chart.note }));
        var details = wy.el("details", {}, [wy.el("summary", { text: "查看数据" }), dataTable(chart)]);
        if (!hasCharts) details.setAttribute("open", "");
        box.appendChild(details);
        grid.appendChild(box);
        if (hasCharts) {
          var instance = window.echarts.init(target, null, { renderer: "canvas", locale: "ZH" });
          instance.setOption(option(chart));
          charts.push(instance);
        }
      });
      if (panel.charts.length) block.appendChild(grid);
      if (panel.table) block.appendChild(tableOf(panel.table));
      if (panel.quotes_title) {
        block.appendChild(wy.el("h3", { text: panel.quotes_title }));
        if (!panel.quotes.length) block.appendChild(wy.el("p", { class: "muted", text: "这段时间没有。" }));
        else block.appendChild(wy.el("ul", { class: "quotes" }, panel.quotes.map(function (q) {
          return wy.el("li", {}, [wy.el("q", { text: q.text }), wy.el("small", { class: "muted", text: " " + q.day + (q.detail ? " · " + q.detail : "") })]);
        })));
      }
      if (panel.note) block.appendChild(wy.el("p", { class: "muted", text: "注：" + panel.note }));
      root.appendChild(block);
    });
    // the charts were sized before their boxes were in the page
    charts.forEach(function (c) { c.resize(); });
  }

  function links(from, to) {
    var q = "from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to);
    $("export").href = "/api/admin/analytics/export.csv?" + q;
    $("report-month").href = "/admin/analytics/report?month=" + to.slice(0, 7);
    $("report-year").href = "/admin/analytics/report?year=" + to.slice(0, 4);
    $("report-year").textContent = to.slice(0, 4) + " 年度数字";
  }

  var latest = 0;

  function load() {
    var from = $("from").value, to = $("to").value;
    if (!from || !to) { $("status").textContent = "请选择开始和结束日期"; return; }
    $("status").textContent = "正在统计……";
    links(from, to);
    history.replaceState(null, "", "?from=" + from + "&to=" + to);
    document.dispatchEvent(new CustomEvent("analytics:range", { detail: { from: from, to: to } }));  // clusters.js
    var request = ++latest;  // a slower answer to an earlier range must not overwrite this one
    wy.get("/api/admin/analytics?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to)).then(function (data) {
      if (request !== latest) return;
      render(data);
      $("panels").setAttribute("data-range", data.start + "/" + data.end);
      $("status").textContent = data.start + " 至 " + data.end + " · 生成于 " + data.generated_at.slice(0, 16).replace("T", " ") + " UTC";
    }).catch(function (e) { if (request === latest) $("status").textContent = "统计失败：" + e.message; });
  }

  $("range").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  Array.prototype.forEach.call(document.querySelectorAll(".quick button"), function (b) {
    b.addEventListener("click", function () {
      var now = today();
      if (b.dataset.days) daysBack(parseInt(b.dataset.days, 10));
      else if (b.dataset.range === "month") setRange(new Date(now.getFullYear(), now.getMonth(), 1), now);
      else setRange(new Date(now.getFullYear(), 0, 1), now);
      load();
    });
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  $("charts-missing").hidden = hasCharts;
  var params = new URLSearchParams(location.search);
  if (params.get("from") && params.get("to")) { $("from").value = params.get("from"); $("to").value = params.get("to"); }
  else daysBack(30);
  load();
})();
