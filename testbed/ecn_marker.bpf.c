// SPDX-License-Identifier: GPL-2.0
/*
 * The testbed's bottleneck marker: a tc (clsact egress) program in front of the shaping qdisc.
 *
 * The kernels under test need not have red or fq_codel's ce_threshold, so ECN marking is done
 * here: the program reads the root qdisc's byte backlog (TBF's, which counts every packet it
 * holds: qdisc_qstats_backlog_inc/dec in include/net/sch_generic.h) and sets CE on the packet
 * about to join the queue when more than K bytes are ahead of it (bpf_skb_ecn_set_ce, which
 * leaves non-ECT packets alone). That is DCTCP's "mark when the instantaneous queue exceeds K"
 * (RFC 8257 sec. 3.1), on the real queue: when the machine is slow and TBF falls behind its
 * rate, the queue that grows is the one marked. TBF does the drop-tail itself.
 * Optionally the program also drops packets at random, for loss experiments.
 *
 * The clsact hook has no helper for the device's qdisc, so the program follows kernel pointers
 * from the skb (the context is the kernel's struct sk_buff) with bpf_probe_read_kernel, through
 * CO-RE relocations: skb->dev->qdisc->qstats.backlog on every kernel.
 *
 * GSO/TSO/GRO must be off on the path so that one skb is one packet on the wire.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0   /* include/uapi/linux/pkt_cls.h */
#define TC_ACT_SHOT 2

char _license[] SEC("license") = "GPL";

const volatile __u64 k_bytes = 0;    /* mark above this backlog; 0: never */
const volatile __u32 drop_below = 0; /* drop when prandom u32 < this (P * 2^32) */

__u64 stat_packets = 0;
__u64 stat_marked = 0;
__u64 stat_dropped = 0;
__u64 stat_unread = 0;      /* packets for which the backlog could not be read */
__u64 stat_max_backlog = 0;
__u64 stat_backlog_sum = 0; /* bytes queued ahead of each packet, summed: the mean queue */

/* Bytes held by the device's root qdisc (the shaper) as this packet arrives in front of it,
 * or -1 if a pointer on the way could not be read. */
static __always_inline __s64 shaper_backlog(struct __sk_buff *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx;
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct Qdisc *root;
	__u32 backlog;

	if (!dev)
		return -1;
	root = BPF_CORE_READ(dev, qdisc);
	if (!root || bpf_core_read(&backlog, sizeof(backlog), &root->qstats.backlog))
		return -1;
	return backlog;
}

SEC("tc")
int ecn_marker(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&stat_packets, 1);
	if (drop_below && bpf_get_prandom_u32() < drop_below) {
		__sync_fetch_and_add(&stat_dropped, 1);
		return TC_ACT_SHOT;
	}
	__s64 backlog = shaper_backlog(skb);
	if (backlog < 0) {
		__sync_fetch_and_add(&stat_unread, 1);
		return TC_ACT_OK;
	}
	/* (Added only when non-zero: clang turns an atomic add of 0 into an atomic OR, which
	 * kernels before 5.12 reject as "BPF_STX uses reserved fields".) */
	if (backlog > 0)
		__sync_fetch_and_add(&stat_backlog_sum, backlog);
	if ((__u64)backlog > stat_max_backlog)
		stat_max_backlog = backlog; /* racy maximum; a statistic, not a control input */
	if (k_bytes && (__u64)backlog > k_bytes) {
		if (bpf_skb_ecn_set_ce(skb))
			__sync_fetch_and_add(&stat_marked, 1);
	}
	return TC_ACT_OK;
}
