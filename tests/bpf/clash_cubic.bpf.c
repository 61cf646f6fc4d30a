// SPDX-License-Identifier: GPL-2.0
/*
 * A test-only plugin that registers as "cubic", the name of a congestion control built into
 * the kernel. bpfplug must refuse it before asking the kernel, and change nothing.
 */
#include "bpfplug_cc.h"

BPFPLUG_PLUGIN("clash-cubic", "cc", "0.0.1", "test plugin whose name clashes with built-in cubic");

SEC("struct_ops")
__u32 BPF_PROG(clash_ssthresh, struct sock *sk)
{
	return bpfplug_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(clash_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	bpfplug_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(clash_undo_cwnd, struct sock *sk)
{
	return bpfplug_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops clash_cubic = {
	.ssthresh = (void *)clash_ssthresh,
	.cong_avoid = (void *)clash_cong_avoid,
	.undo_cwnd = (void *)clash_undo_cwnd,
	.name = "cubic",
};
