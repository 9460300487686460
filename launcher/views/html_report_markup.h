// The static part of the HTML report's page (tree_html.cc): the controls, the timeline's
// axis, the rows and the details panel, all filled by html_report_script.h. The controls
// mirror the URL fragment (#q=gcc&filter=runaways&sort=cpu), so a view can be linked and
// tested.
#pragma once
#include <string_view>

namespace progeny {

inline constexpr std::string_view kHtmlReportMarkup = R"html(<header>
<h1>progeny report</h1>
<p id="summary"></p>
<form id="controls" autocomplete="off">
<label>Search <input id="q" type="search" placeholder="pid or command line"></label>
<label>Show <select id="filter">
<option value="">all</option>
<option value="runaways">runaways</option>
<option value="failures">failures</option>
</select></label>
<label>argv contains <input id="argv" placeholder="substring"></label>
<label>subtree of pid <input id="pid" inputmode="numeric" size="8"></label>
<label>depth ≤ <input id="depth" inputmode="numeric" size="3"></label>
<label>children by <select id="sort">
<option value="">start</option>
<option value="cpu">own CPU, largest first</option>
<option value="rss">own peak RSS, largest first</option>
<option value="lifetime">lifetime, longest first</option>
</select></label>
<label><input id="expand" type="checkbox"> expand all</label>
</form>
<p id="status"></p>
<div id="legend">
<span class="key ok">exit 0</span><span class="key fail">exit ≠ 0</span>
<span class="key signal">signal</span><span class="key stopped">stopped by progeny</span>
<span class="key unknown">exit unknown</span><span class="key runaway">runaway</span>
<span class="key cmdexit">COMMAND exited</span>
</div>
</header>
<main>
<div id="axis" class="grid"><span>process</span><span>end</span><span class="track" id="ticks"></span></div>
<div id="rows"><div id="cmdexit"></div></div>
<noscript>This report draws its tree with JavaScript; the data is in the page's
progeny-data script element (JSON).</noscript>
</main>
<aside id="details" hidden></aside>
)html";

}  // namespace progeny
