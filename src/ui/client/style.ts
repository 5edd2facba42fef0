/**
 * The dashboard's style sheet (served as `/app.css`): readable at laptop width, one colour per
 * step state.
 *
 * @module
 */

/** Fill colour of each step state in the DAG (also the badge colours). */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  pending: "#d0d4da",
  queued: "#f2d16b",
  running: "#4a90e2",
  succeeded: "#4caf50",
  cached: "#8bc34a",
  failed: "#e53935",
  cancelled: "#9e9e9e",
  skipped: "#bdbdbd",
  interrupted: "#ff9800",
  created: "#d0d4da",
};

/** The CSS text. */
export const APP_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
header{background:#1d232b;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:16px;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#eef0f3}
a:focus,button:focus,th:focus,input:focus{outline:2px solid #4a90e2}
.badge{display:inline-block;padding:0 6px;border-radius:8px;color:#1d232b}
${Object.entries(STATE_COLOURS)
  .map(([s, c]) => `.st-${s}{background:${c}} svg .st-${s}{fill:${c};background:none}`)
  .join("\n")}
svg .node rect{stroke:#1d232b;stroke-width:1}
svg .node text{font-size:12px;fill:#1d232b;pointer-events:none}
svg .edge{stroke:#6b7480;fill:none;stroke-width:1.5}
svg .node{cursor:pointer}
div.dag{overflow:auto;max-height:75vh;border:1px solid #e3e6ea;background:#fff}
pre.log{background:#11161c;color:#e6e6e6;padding:8px;max-height:420px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.actions button{margin-right:8px}
.filters input{margin:0 8px 8px 0}
.muted{color:#6b7480}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
dt{font-weight:600}
header nav{display:flex;gap:12px}
header nav a{font-weight:400}
form.refs{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.charts{display:flex;flex-wrap:wrap;gap:12px}
figure.chart{background:#fff;border:1px solid #e3e6ea;margin:0;padding:6px}
figure.chart figcaption{font-weight:600;font-size:12px}
figure.chart text{font-size:11px;fill:#1d232b}
figure.chart .axis{stroke:#6b7480}
ul.legend{list-style:none;padding:0;margin:4px 0 0;font-size:12px;display:flex;flex-wrap:wrap;gap:8px}
td.delta.up{color:#2e7d32}
td.delta.down{color:#c62828}
tr.average td{font-weight:600;background:#f2f4f7}
tr.selected td{background:#e8f1fc}
svg.timeline text{font-size:11px;fill:#1d232b}
pre.command{white-space:pre-wrap;word-break:break-all;margin:0;background:#eef0f3;padding:4px}
svg.timeline .grid{stroke:#e3e6ea}
`;
