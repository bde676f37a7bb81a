/* Swagger UI on the generated document; "Try it out" uses the signed-in session and its CSRF token. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || null;
  window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    requestInterceptor: function (req) {
      if (csrf) req.headers["X-CSRF-Token"] = csrf;
      return req;
    }
  });
})();
