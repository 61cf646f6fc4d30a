// SPDX-License-Identifier: GPL-2.0
/*
 * A test-only object that carries bpfplug metadata naming the dctcp plugin but implements a
 * different kernel interface (bpf_dummy_ops, the kernel's struct_ops test type): `bpfplug swap
 * dctcp --object` must refuse it before touching the running implementation.
 */
#include "bpfplug_cc.h"

BPFPLUG_PLUGIN("dctcp", "cc", "0.0.1", "test object implementing the wrong struct_ops");

SEC("struct_ops")
int BPF_PROG(wrong_test_1, struct bpf_dummy_ops_state *state)
{
	return 0;
}

SEC(".struct_ops.link")
struct bpf_dummy_ops wrong_ops = {
	.test_1 = (void *)wrong_test_1,
};
