// The one place in the launcher that sends signals (tests/unit/signal_gate_test.cc fails if
// any other file does). Every signal to another process goes through a pidfd of a process
// proven to belong to the run (verified.h), re-checked here against the identity recorded
// when it was proven; the only other targets are progeny itself, the process group progeny
// made for COMMAND, the unreaped child of the caller, a cgroup progeny created, and the
// members the keeper holds (proven by the launcher, checked again here). The launcher arms
// nothing: a lifeline's ends are armed by the member itself, for itself (shim/transport.cc).
// Nothing here takes a bare pid, and nothing can reach kill(-1) or kill(0).
#pragma once
#include <cstdint>
#include <string>

#include "launcher/members/verified.h"

namespace progeny::signal_gate {

// To a verified member. 0, or an errno (ESRCH once it is gone; ESTALE when the pidfd no
// longer names the process that was verified).
int send(const VerifiedProcess& target, int sig);
// To the process group COMMAND leads (progeny created it: setpgid(0, 0) in COMMAND).
int send_to_group_of_command(const VerifiedProcess& command, int sig);
// To the calling process itself (job-control stop; re-raising COMMAND's fatal signal).
void raise_on_self(int sig);
// To an unreaped child of the caller, by the pidfd its clone returned. Async-signal-safe:
// the PID namespace's init and intermediate forward signals with it from a handler.
int send_to_own_child(int child_pidfd, int sig);
// SIGKILL to every process in the cgroup whose directory descriptor `leaf_dirfd` progeny
// kept from its own mkdir. Async-signal-safe (the cgroup watchdog uses it after fork).
int kill_cgroup(int leaf_dirfd);
// From the keeper, once the launcher is gone, to a member it holds: by the pidfd the
// launcher took from the member's own verified connection (SO_PEERPIDFD), re-checked here
// against the pidfs identity it was handed with (0 without pidfs). Sent from the launcher's
// PID namespace, it reaches a member that is the init of a namespace of its own.
int send_to_held(int pidfd, uint64_t ino, int sig);
// Takes the arming off one end of a member's lifeline pipe (the member armed both ends for
// itself; O_ASYNC first): releasing the other end then signals nobody through this one.
void disarm_lifeline(int end);
// Whether pidfd signalling works here at all (pidfd_open and signal 0 on ourselves): `progeny
// run` refuses to start without it, and `progeny doctor` reports this same answer. False with
// a one-line *why.
bool available(std::string* why);

}  // namespace progeny::signal_gate
