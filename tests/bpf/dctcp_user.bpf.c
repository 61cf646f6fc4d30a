// SPDX-License-Identifier: GPL-2.0
/*
 * A test-only object standing in for a user's own build of the dctcp plugin (`bpfplug swap
 * dctcp --object FILE`): same plugin name and registered name, its own version. Its behaviour
 * is Reno's; what the tests check is where connections go. Built a second time with
 * -DUSER_OPS_NAME='"bpf_dctcp2"' as an object that would change the registered name.
 */
#include "bpfplug_cc.h"

#ifndef USER_OPS_NAME
#define USER_OPS_NAME "bpf_dctcp"
#endif

BPFPLUG_PLUGIN("dctcp", "cc", "9.9.9-user", "test stand-in for a user-built dctcp");
BPFPLUG_TUNABLE(__u32, shift_g, 4, 0, 10, "unused here; present so --set shift_g works");

SEC("struct_ops")
void BPF_PROG(user_init, struct sock *sk)
{
	bpfplug_cc_sock_init(sk);
}

SEC("struct_ops")
void BPF_PROG(user_release, struct sock *sk)
{
	bpfplug_cc_sock_release(sk);
}

SEC("struct_ops")
__u32 BPF_PROG(user_ssthresh, struct sock *sk)
{
	return bpfplug_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(user_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	bpfplug_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(user_undo_cwnd, struct sock *sk)
{
	return bpfplug_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops dctcp_user = {
	.init = (void *)user_init,
	.release = (void *)user_release,
	.ssthresh = (void *)user_ssthresh,
	.cong_avoid = (void *)user_cong_avoid,
	.undo_cwnd = (void *)user_undo_cwnd,
	.name = USER_OPS_NAME,
};
