// vfork without undefined behaviour. A C wrapper around the real vfork would return in the
// child through a frame that the parent later reuses. This stub, like glibc's, holds the
// return address in %rdi (registers are per-task) across the syscall, pushes it back in both
// the child and the parent, and tail-calls a C function that returns straight to vfork's
// caller. The child's C code only uses stack below the caller's frame, which the parent does
// not need.
#if !defined(__x86_64__)
#error "vfork stub: x86_64 only"
#endif

__asm__(R"(
    .text
    .globl vfork
    .type vfork, @function
    .p2align 4
vfork:
    .cfi_startproc
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    call progeny_vfork_prepare
    addq $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq %rdi
    .cfi_adjust_cfa_offset -8
    .cfi_register %rip, %rdi
    movl $58, %eax
    syscall
    pushq %rdi
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rip, 0
    cmpq $-4095, %rax
    jae 1f
    testq %rax, %rax
    jz 2f
    movl %eax, %edi
    jmp progeny_vfork_parent
2:
    jmp progeny_vfork_child
1:
    negl %eax
    movl %eax, %edi
    jmp progeny_vfork_error
    .cfi_endproc
    .size vfork, .-vfork
)");
