// The API document as a page: Swagger UI from the npm package, served by this
// service. Nothing is fetched from elsewhere: no validator badge, no fonts.
globalThis.ui = globalThis.SwaggerUIBundle({
  url: new URL("/openapi.json", location.href).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});
