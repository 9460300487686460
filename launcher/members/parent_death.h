// The parent-death policy (docs/shim.md; `--parent-death SIG`, off by default because correct
// programs expect a killed parent's children to live on): a member killed by a signal takes
// its children with it, one that exited normally leaves them running (daemons). Its children
// are the members whose records name it as their parent, by identity, so a pid reused since
// is never taken for one of them.
#pragma once

#include <functional>

#include "launcher/members/membership.h"

namespace progeny {

// Called for each signal sent: the child, and 0 or the errno of the send.
using PolicySignalled = std::function<void(const Member& child, int error)>;

// Applies the policy to one ended member: sends `sig` to each of its children when it died of
// a signal and sig is not 0. Returns how many were signalled.
size_t apply_parent_death(Membership& members, const ExitedMember& dead, int sig,
                          const PolicySignalled& signalled);

}  // namespace progeny
