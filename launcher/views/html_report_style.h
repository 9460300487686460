// The HTML report's style sheet (tree_html.cc). System fonts only: the page loads nothing.
#pragma once
#include <string_view>

namespace progeny {

inline constexpr std::string_view kHtmlReportStyle = R"css(
:root { --ok: #43a047; --fail: #fb8c00; --signal: #e53935; --stopped: #8e24aa;
  --unknown: #90a4ae; --progeny: #9e9e9e; --runaway: #d32f2f; --line: #e0e0e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, sans-serif; color: #212121; background: #fff; }
header { position: sticky; top: 0; z-index: 2; background: #fafafa; padding: 6px 10px;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 15px; margin: 0 0 2px; }
p { margin: 2px 0; }
#controls { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0; }
#controls input[type=search], #argv { width: 16em; }
#status { color: #555; }
#status.error { color: var(--runaway); font-weight: bold; }
#legend .key { margin-right: 12px; white-space: nowrap; }
#legend .key::before { content: ""; display: inline-block; width: 12px; height: 10px;
  margin-right: 4px; vertical-align: -1px; background: var(--c); }
.ok { --c: var(--ok); } .fail { --c: var(--fail); } .signal { --c: var(--signal); }
.stopped { --c: var(--stopped); } .unknown { --c: var(--unknown); }
.progeny { --c: var(--progeny); } .mixed { --c: var(--unknown); }
#legend .runaway::before { background: none; outline: 2px solid var(--runaway); outline-offset: -2px; }
#legend .cmdexit::before { width: 2px; background: var(--runaway); }
.grid, .row { display: grid; grid-template-columns: minmax(0, 46%) 12em minmax(0, 1fr); }
#axis { font-size: 11px; color: #555; border-bottom: 1px solid var(--line); }
#axis > span { padding: 0 6px; }
.track { position: relative; }
#ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
main { font: 12px/18px ui-monospace, monospace; }
.row { height: 18px; cursor: pointer; border-bottom: 1px solid #f5f5f5; }
.row:hover { background: #f1f8ff; }
.row.sel { background: #e3f2fd; }
.row.hit .cmd { background: #fff59d; }
.label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding-right: 6px; }
.pid { font-weight: bold; margin-right: 6px; }
.count { font-weight: bold; color: #1565c0; margin-right: 6px; }
.fold .cmd::after { content: " …"; color: #1565c0; }
.mark { margin-left: 6px; color: var(--stopped); }
.mark.m-runaway { color: var(--runaway); font-weight: bold; }
.mark.m-setsid, .mark.m-setpgid { color: #f57f17; }
.end { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: #555; }
#rows { position: relative; }
/* Where COMMAND exited, over the track column (46% + 12em from the left, the rest wide). */
#cmdexit { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--runaway);
  left: calc(46% + 12em + (54% - 12em) * var(--at, 0)); pointer-events: none; }
.bar { position: absolute; top: 3px; height: 11px; min-width: 2px; background: var(--c); }
.bar.open { opacity: 0.5; }
.row.runaway .bar { outline: 2px solid var(--runaway); }
#details { position: fixed; right: 8px; bottom: 8px; width: min(46em, 60vw); max-height: 60vh;
  overflow: auto; background: #fff; border: 1px solid #bdbdbd; border-radius: 4px;
  box-shadow: 0 2px 8px rgba(0,0,0,.2); padding: 8px 12px; z-index: 3; }
#details h2 { font-size: 14px; margin: 0 0 6px; }
#details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
#details dt { color: #555; }
#details dd { margin: 0; overflow-wrap: anywhere; }
#details ol { margin: 2px 0; padding-left: 2.5em; font: 12px ui-monospace, monospace; }
#details li { white-space: pre-wrap; overflow-wrap: anywhere; }
#details .close { float: right; }
)css";

}  // namespace progeny
