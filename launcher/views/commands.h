// The audit views' subcommands, dispatched by launcher/main.cc. Each returns the exit status.
#pragma once

namespace progeny {

int tree_main(int argc, char** argv);     // progeny tree
int summary_main(int argc, char** argv);  // progeny summary

}  // namespace progeny
