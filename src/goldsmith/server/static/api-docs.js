// The API explorer at /docs: Swagger UI (shipped in the fastapi-offline package and served from
// this server) started from a file, so the page needs no inline script under its CSP.
/* global SwaggerUIBundle */

const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // the default asks validator.swagger.io: nothing may leave the server
  presets: [SwaggerUIBundle.presets.apis],
});
