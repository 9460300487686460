// The renderings of `progeny tree`: one function per format, each writing a whole document.
// The text, svg and dot views draw the folded, filtered tree (launcher/views/fold.h); json and
// perfetto are documents for programs and carry every process, streamed as they are written.
#pragma once
#include <ostream>

#include "launcher/views/filter.h"
#include "launcher/views/fold.h"
#include "launcher/views/lineage.h"

namespace progeny {

struct TreeLook {
  bool color = false;      // text only: ANSI colours
  bool full_argv = false;  // whole command lines, wrapped, instead of cut to a line
};

// pstree-like text.
void render_text(const Lineage& lin, const FoldedTree& tree, std::ostream& out,
                 const TreeLook& look);
// One JSON document, schema "progeny-tree/1" (documented in progeny.1).
void render_json(const Lineage& lin, std::ostream& out);
// Graphviz digraph for `dot -Tsvg`.
void render_dot(const Lineage& lin, const FoldedTree& tree, std::ostream& out,
                const TreeLook& look);
// Chrome/Perfetto trace-event JSON: one track per process.
void render_perfetto(const Lineage& lin, std::ostream& out);
// A self-contained SVG timeline: one row per group, nested under its parent's.
void render_svg(const Lineage& lin, const FoldedTree& tree, std::ostream& out,
                const TreeLook& look);
// One self-contained interactive HTML page: folded tree, timeline, search, filters and
// sorting. The page opens with `filter` and `fold` set (the same options as the text view's),
// written into its URL fragment, where the reader can change them.
void render_html(const Lineage& lin, std::ostream& out, const FilterSpec& filter = {},
                 const FoldSpec& fold = {});

}  // namespace progeny
