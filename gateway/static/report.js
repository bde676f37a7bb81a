/* The printable report: its print button (the page's CSP allows no inline handlers). */
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
})();
