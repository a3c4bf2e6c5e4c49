// Start GOV.UK Frontend's components on every page. htmx is loaded by its own script tag; content it
// swaps in is started here too, so a swapped-in component behaves like one on a fresh page.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
initAll();

document.body.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail && event.detail.target;
  if (target instanceof HTMLElement) {
    initAll({ scope: target });
  }
});
