// Build the portal's front-end assets into portal/static/vendor/ (git-ignored; `npm run build`).
//
//  - portal.scss, with GOV.UK Frontend from node_modules  -> vendor/portal.css
//  - GOV.UK Frontend's ES module bundle                   -> vendor/govuk-frontend.min.js
//  - GOV.UK Frontend's images (no fonts: we use system fonts) -> vendor/govuk/assets/images/
//  - htmx                                                 -> vendor/htmx.min.js
//  - portal/static_src/*.js (the portal's own scripts)    -> vendor/
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as sass from "sass";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const out = join(root, "portal", "static", "vendor");

const govukDist = join(dirname(require.resolve("govuk-frontend/package.json")), "dist", "govuk");
const htmxDist = join(dirname(require.resolve("htmx.org/package.json")), "dist");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const css = sass.compile(join(here, "portal.scss"), {
  importers: [new sass.NodePackageImporter(root)],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin"],
});
writeFileSync(join(out, "portal.css"), css.css);

// The bundle names its source map, and the hashed static files storage insists the map exists.
for (const name of ["govuk-frontend.min.js", "govuk-frontend.min.js.map"]) {
  copyFileSync(join(govukDist, name), join(out, name));
}
cpSync(join(govukDist, "assets", "images"), join(out, "govuk", "assets", "images"), { recursive: true });
copyFileSync(join(htmxDist, "htmx.min.js"), join(out, "htmx.min.js"));

const own = readdirSync(here).filter((name) => name.endsWith(".js"));
for (const name of own) {
  copyFileSync(join(here, name), join(out, name));
}

console.log(`Built portal/static/vendor: portal.css, govuk-frontend.min.js, htmx.min.js, ${own.join(", ")}`);
