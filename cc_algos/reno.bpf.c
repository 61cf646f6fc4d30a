// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_reno: TCP NewReno congestion control (RFC 5681, RFC 6582 recovery in the TCP stack).
 *
 * Slow start with Appropriate Byte Counting (RFC 3465, L = infinity) until ssthresh, then one
 * segment per RTT of additive increase; on loss ssthresh = max(cwnd/2, 2). Fast retransmit and
 * NewReno recovery are done by the kernel's TCP stack around these callbacks, exactly as for
 * the built-in "reno". Uses the kernel's own Reno kfuncs where the kernel exports them
 * (Linux 5.13+), the equivalent BPF code from bpfplug_compat.h elsewhere.
 */
#include "bpfplug_cc.h"

BPFPLUG_PLUGIN("reno", "cc", "1.0.0",
	       "TCP NewReno (RFC 5681): slow start, AIMD, halve on loss");

BPFPLUG_COUNTER(stat_loss_reductions, "ssthresh reductions (loss or ECN)");
BPFPLUG_COUNTER(stat_undos, "spurious reductions undone");

SEC("struct_ops")
void BPF_PROG(reno_init, struct sock *sk)
{
	bpfplug_cc_sock_init(sk);
}

SEC("struct_ops")
void BPF_PROG(reno_release, struct sock *sk)
{
	bpfplug_cc_sock_release(sk);
}

SEC("struct_ops")
__u32 BPF_PROG(reno_ssthresh, struct sock *sk)
{
	bpfplug_count(stat_loss_reductions, 1);
	return bpfplug_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(reno_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	bpfplug_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(reno_undo_cwnd, struct sock *sk)
{
	bpfplug_count(stat_undos, 1);
	return bpfplug_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops reno = {
	.init = (void *)reno_init,
	.release = (void *)reno_release,
	.ssthresh = (void *)reno_ssthresh,
	.cong_avoid = (void *)reno_cong_avoid,
	.undo_cwnd = (void *)reno_undo_cwnd,
	.name = "bpf_reno",
};
