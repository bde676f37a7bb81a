(function () {
  "use strict";
  document.getElementById("hotline-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var data = {};
    new FormData(e.target).forEach(function (v, k) { data[k] = v; });
    data.consent = e.target.consent.checked;
    wy.post("/api/desk/hotline", data).then(function (d) {
      document.getElementById("hotline-status").textContent = "已开工单 " + d.number + (d.assigned_expert ? "，已分派给 " + d.assigned_expert : "，进入待分派池");
      e.target.reset();
    }).catch(function (err) { document.getElementById("hotline-status").textContent = err.message; });
  });
})();
