/**
 * The dashboard's front end (bundled into `/app.js`): hash routes `#/` (runs), `#/run/<id>`,
 * `#/run/<id>/step/<step>`, `#/compare?ref=…`, `#/recovery?baseline=…&candidate=…`,
 * `#/models[/<id>]`. Everything shown goes through Preact as text: nothing from a job or
 * a user is ever parsed as HTML.
 *
 * @module
 */
/// <reference lib="dom" />
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { hashQuery, href } from "./api.js";
import { ComparePage } from "./compare-page.js";
import { ModelsPage } from "./models-page.js";
import { RecoveryPage } from "./recovery-page.js";
import { RunPage } from "./run-page.js";
import { RunsPage } from "./runs-page.js";
import { StepPage } from "./step-page.js";

function route(hash: string) {
  const query = hashQuery(hash);
  const parts = hash.replace(/^#\/?/, "").replace(/\?.*$/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "compare") return html`<${ComparePage} refs=${query.getAll("ref")} />`;
  if (parts[0] === "recovery") return html`<${RecoveryPage} baseline=${query.get("baseline") ?? ""} candidates=${query.getAll("candidate")} scale=${Number(query.get("scale") ?? "1")} />`;
  if (parts[0] === "models") return html`<${ModelsPage} selected=${parts[1] || undefined} />`;
  if (parts[0] === "run" && parts[1] && parts[2] === "step" && parts[3] !== undefined) return html`<${StepPage} runId=${parts[1]} step=${parts.slice(3).join("/")} />`;
  if (parts[0] === "run" && parts[1]) return html`<${RunPage} runId=${parts[1]} />`;
  return html`<${RunsPage} />`;
}

function App() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return html`<header><a href=${href("/")}>gpu-dag</a><nav><a href=${href("/")}>Runs</a><a href=${href("/compare")}>Compare</a><a href=${href("/recovery")}>Recovery</a><a href=${href("/models")}>Models</a></nav></header><main>${route(hash)}</main>`;
}

render(html`<${App} />`, document.getElementById("app")!);
