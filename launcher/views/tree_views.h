// The renderings of `progeny tree`: one function per format, each writing a whole document.
#pragma once
#include <ostream>

#include "launcher/views/lineage.h"

namespace progeny {

// pstree-like text; ANSI colours when `color`.
void render_text(const Lineage& lin, std::ostream& out, bool color);
// One JSON document, schema "progeny-tree/1" (documented in progeny.1).
void render_json(const Lineage& lin, std::ostream& out);
// Graphviz digraph for `dot -Tsvg`.
void render_dot(const Lineage& lin, std::ostream& out);
// Chrome/Perfetto trace-event JSON: one track per process.
void render_perfetto(const Lineage& lin, std::ostream& out);
// A self-contained SVG timeline: one bar per process, nested under its parent.
void render_svg(const Lineage& lin, std::ostream& out);
// One self-contained interactive HTML page: folded tree, timeline, search and filters.
void render_html(const Lineage& lin, std::ostream& out);

}  // namespace progeny
