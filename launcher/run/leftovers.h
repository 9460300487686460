// The processes still running when a stop begins, described for the report on stderr (and
// the verdict): who each is, who created it (from the lineage records, orphans included), how
// it escaped COMMAND's group, and whether it holds progeny's own output open.
#pragma once
#include <sys/types.h>

#include <set>
#include <vector>

#include "launcher/collect/lineage_log.h"
#include "launcher/members/membership.h"
#include "launcher/views/runaway_report.h"

namespace progeny {

// The live members but `skip` (progeny's own helpers). The first `detailed` are described from
// /proc (command line, groups, descriptors); the rest only counted.
std::vector<RunawayProcess> describe_leftovers(Membership& members, const std::set<pid_t>& skip,
                                               const LineageLog& log, size_t detailed);

}  // namespace progeny
