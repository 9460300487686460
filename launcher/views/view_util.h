// Text helpers shared by the audit views, the trace lines and the runaway report.
//
// Everything a process can choose (argv, paths) is untrusted: before it reaches a terminal,
// an XML document or a Graphviz label it goes through printable(), so an argv carrying
// escape sequences cannot repaint the user's terminal and a control byte cannot make the SVG
// ill-formed.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "launcher/views/lineage.h"

namespace progeny {

// Control characters (C0, DEL, C1) and bytes that are not valid UTF-8 become \xNN; the line
// and paragraph separators and the bidirectional controls (U+061C, U+200E/F, U+2028-202E,
// U+2066-2069) become \uXXXX.
std::string printable(std::string_view s);
// One argument as a shell would need it ('it'\''s'), made printable.
std::string quote_arg(std::string_view arg);
// argv as a command line of at most max_chars characters. A longer one keeps the program's
// base name and as many of the last arguments as fit, with "…" for the middle: the flags every
// compile of a build shares are in the middle, the file that tells them apart is at the end.
std::string command_text(const std::vector<std::string>& argv, size_t max_chars);
// "sh → env → sleep 5": the exec chain of one process on one line; a process that never
// exec'd shows its inherited image in braces ("{sh}"). An argv the record itself cut ends in
// "…[N bytes]" (its whole size) when the record says. SIZE_MAX: nothing cut here.
std::string exec_chain_text(const Lineage& lin, size_t proc, size_t max_chars = 72);
// A process that rewrote its title (ProcessNode::title) shows it first: "postgres: checkpointer
// {postgres}", "nginx: worker process (nginx -g 'daemon off;')".
// The programs alone, "sh → env → sleep" ("{sh}", "progeny"), after its title when it has
// one: what folded siblings share.
std::string program_chain(const Lineage& lin, size_t proc);
// Its title's pieces joined by spaces, made printable, without trailing spaces; empty
// without one.
std::string title_text(const ProcessNode& p);
// Characters (code points; an invalid byte counts as one) of s.
size_t char_count(std::string_view s);
// "850ms", "1.52s", "3m12s", "2h05m".
std::string format_duration(uint64_t ns);
// "1.52s" from birth to end, "≥1.20s" when the end is unknown, "?" when nothing tells.
std::string lifetime_text(const ProcessNode& p);
// "exit 0", "signal KILL (core)", "stopped by progeny (TERM)", "exit unknown".
std::string end_text(const ProcessNode& p);
// The marks the views show: "setsid", "setpgid", "reparented", "outlived parent",
// "runaway", "bpf only".
std::vector<std::string> marks_of(const ProcessNode& p);
// &, <, >, " and ' as XML entities (after printable()).
std::string xml_escape(std::string_view s);

}  // namespace progeny
