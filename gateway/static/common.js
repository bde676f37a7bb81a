/* Shared helpers for the staff pages: JSON requests with the CSRF token, safe DOM building. */
(function () {
  "use strict";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  function request(method, url, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    if (method !== "GET") opts.headers["X-CSRF-Token"] = token;
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
        if (!r.ok) { var e = new Error((data.error && data.error.message) || ("请求失败（" + r.status + "）")); e.data = data.error || {}; e.status = r.status; throw e; }
        return data;
      });
    });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  /* Text with the given terms wrapped in <mark>; built from text nodes, never from HTML strings. */
  function highlighted(text, terms) {
    var frag = document.createDocumentFragment();
    terms = (terms || []).filter(function (t) { return t && t.length > 1; });
    if (!terms.length) { frag.appendChild(document.createTextNode(text)); return frag; }
    var lower = text.toLowerCase();
    var i = 0;
    while (i < text.length) {
      var best = -1, bestTerm = null;
      terms.forEach(function (t) { var p = lower.indexOf(t.toLowerCase(), i); if (p !== -1 && (best === -1 || p < best || (p === best && t.length > bestTerm.length))) { best = p; bestTerm = t; } });
      if (best === -1) { frag.appendChild(document.createTextNode(text.slice(i))); break; }
      if (best > i) frag.appendChild(document.createTextNode(text.slice(i, best)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(best, best + bestTerm.length);
      frag.appendChild(mark);
      i = best + bestTerm.length;
    }
    return frag;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  window.wy = { get: function (u) { return request("GET", u); }, post: function (u, b) { return request("POST", u, b || {}); },
    put: function (u, b) { return request("PUT", u, b); }, del: function (u) { return request("DELETE", u); },
    el: el, highlighted: highlighted, clear: clear, csrf: token };
})();
