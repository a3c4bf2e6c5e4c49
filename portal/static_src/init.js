// Start GOV.UK Frontend's components on every page, and on content htmx swaps in later, so a
// swapped-in component behaves like one on a fresh page. htmx itself is loaded by its own script tag.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
initAll();

document.addEventListener("htmx:load", (event) => {
  const element = event.detail && event.detail.elt;
  if (element instanceof HTMLElement && element !== document.body && element.isConnected) {
    initAll({ scope: element });
  }
});
