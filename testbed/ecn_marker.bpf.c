// SPDX-License-Identifier: GPL-2.0
/*
 * The testbed's bottleneck marker: a tc (clsact egress) program in front of the shaping qdisc.
 *
 * This kernel has neither netem nor red, so ECN marking is emulated: the program keeps a
 * virtual queue that drains at the shaper's rate (a token bucket in reverse) and adds every
 * packet's length; when the virtual backlog exceeds K bytes it sets CE (bpf_skb_ecn_set_ce,
 * which leaves non-ECT packets alone). Because the clsact hook runs before the root qdisc it
 * cannot read the qdisc's real backlog; at the same rate the two agree as long as the shaper
 * does not drop. This is DCTCP's "mark when the instantaneous queue exceeds K" (RFC 8257
 * sec. 3.1). Optionally it also drops packets at random, for loss experiments.
 *
 * GSO/TSO/GRO must be off on the path so that one skb is one packet on the wire.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0   /* include/uapi/linux/pkt_cls.h */
#define TC_ACT_SHOT 2
#define NSEC_PER_SEC 1000000000ULL

char _license[] SEC("license") = "GPL";

const volatile __u64 rate_bytes_per_sec = 0; /* the shaper's rate; 0: no virtual queue */
const volatile __u64 k_bytes = 0;            /* mark above this virtual backlog; 0: never */
const volatile __u64 limit_bytes = 0;        /* the shaper's drop-tail limit; 0: unbounded */
const volatile __u64 bucket_bytes = 0;       /* the shaper's token bucket (TBF burst) */
const volatile __u32 drop_below = 0;         /* drop when prandom u32 < this (P * 2^32) */

__u64 stat_packets = 0;
__u64 stat_marked = 0;
__u64 stat_dropped = 0;
__u64 stat_max_backlog = 0;
__u64 stat_backlog_sum = 0; /* bytes queued ahead of each packet, summed: the mean queue */

struct virtual_queue {
	struct bpf_spin_lock lock;
	__u64 last_ns;
	__u64 backlog;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct virtual_queue);
} vqueue SEC(".maps");

/* Drain the virtual queue for the time since the last packet, enqueue this one, return the
 * real queue's backlog. Idle gaps are capped at one second so the product below cannot
 * overflow. The virtual queue counts every byte not yet sent at the rate; TBF sends the first
 * bucket_bytes of a burst at once (its tokens), so its real queue is the virtual one minus the
 * bucket. A packet that would not fit in the real queue's limit is the one TBF drops
 * (drop-tail): it is not queued here either, so the two agree through overflows. */
static __always_inline __u64 vq_enqueue(struct virtual_queue *q, __u32 len)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 backlog;

	bpf_spin_lock(&q->lock);
	__u64 idle = now - q->last_ns;
	if (idle > NSEC_PER_SEC)
		idle = NSEC_PER_SEC;
	__u64 drained = idle * rate_bytes_per_sec / NSEC_PER_SEC;
	q->backlog = q->backlog > drained ? q->backlog - drained : 0;
	if (!limit_bytes || q->backlog + len <= limit_bytes + bucket_bytes)
		q->backlog += len;
	q->last_ns = now;
	backlog = q->backlog;
	bpf_spin_unlock(&q->lock);
	return backlog > bucket_bytes ? backlog - bucket_bytes : 0;
}

SEC("tc")
int ecn_marker(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct virtual_queue *q;

	__sync_fetch_and_add(&stat_packets, 1);
	if (drop_below && bpf_get_prandom_u32() < drop_below) {
		__sync_fetch_and_add(&stat_dropped, 1);
		return TC_ACT_SHOT;
	}
	if (!rate_bytes_per_sec)
		return TC_ACT_OK;
	q = bpf_map_lookup_elem(&vqueue, &zero);
	if (!q)
		return TC_ACT_OK;
	__u64 backlog = vq_enqueue(q, skb->len);
	/* What this packet waits behind: its queueing delay is that over the rate. (Added only
	 * when non-zero: clang turns an atomic add of 0 into an atomic OR, which kernels before 5.12
	 * reject as "BPF_STX uses reserved fields".) */
	if (backlog > skb->len)
		__sync_fetch_and_add(&stat_backlog_sum, backlog - skb->len);
	if (backlog > stat_max_backlog)
		stat_max_backlog = backlog; /* racy maximum; a statistic, not a control input */
	if (k_bytes && backlog > k_bytes) {
		if (bpf_skb_ecn_set_ce(skb))
			__sync_fetch_and_add(&stat_marked, 1);
	}
	return TC_ACT_OK;
}
