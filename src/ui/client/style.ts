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
pre.log{background:#11161c;color:#e6e6e6;padding:8px;max-height:420px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.actions button{margin-right:8px}
.filters input{margin:0 8px 8px 0}
.muted{color:#6b7480}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
dt{font-weight:600}
`;
