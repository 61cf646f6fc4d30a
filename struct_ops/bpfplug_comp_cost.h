/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * comp-cost's model and maps, shared by the BPF policy (policies/comp_cost.bpf.c) and bpfplug
 * (calibration, the CPU-headroom feed, `status --explain`). Plain C: the decision below is the
 * same code in the kernel and in user space, so the same inputs give the same verdict.
 *
 * The model (docs/policies.md, from the tcp_comp authors' notes): sending D bytes over a path
 * of N bytes/s takes D/N; compressing them first takes D/Vc + D*R/N + D/Vd (compress, send the
 * compressed bytes, decompress), i.e. D/N * (R + N/Vc + N/Vd). Compression wins when
 *
 *     R + N/Vc + N/Vd < 1
 *
 * R = compressed/original size, Vc/Vd = compression/decompression speed (bytes/s) of the
 * codec on this machine (bpfplug calibrates them), N = the destination's bandwidth estimate.
 * The CPU x bandwidth table of the same notes enters through Vc: compression runs on the CPU
 * headroom there is, so Vc is scaled by the headroom (percent of one CPU free); with less than
 * min_headroom there is no compression at all (CPU busy: "not applicable"); with both CPU and
 * bandwidth tight, the scaled model weighs the benefit.
 *
 * Fixed point: 1.0 = 1 << BPFPLUG_COMP_Q. The terms N/V are computed as (N << Q) / V, exact
 * to one unit in the last place for N up to 2^47 bytes/s.
 */
#ifndef BPFPLUG_COMP_COST_H
#define BPFPLUG_COMP_COST_H

#include "bpfplug_comp.h"

#define BPFPLUG_COMP_Q 16
#define BPFPLUG_COMP_ONE (1ULL << BPFPLUG_COMP_Q)
#define BPFPLUG_COMP_COST_INFINITE (~0ULL)

/* The codec's calibration (map "calibration", one entry), written by bpfplug. */
struct bpfplug_comp_calibration {
	__u64 vc_bps;     /* compression speed, original bytes per second */
	__u64 vd_bps;     /* decompression speed, original bytes per second */
	__u32 ratio_q;    /* R: compressed / original size, fixed point */
	__u32 codec;      /* BPFPLUG_COMP_CODEC_* calibrated; 0: not calibrated */
	__s32 level;      /* the codec's level */
	__u32 reserved;
	__u64 measured_at; /* CLOCK_REALTIME seconds */
};

/* The host's CPU headroom (map "host", one entry), fed by `bpfplug agent`. */
struct bpfplug_comp_host {
	__u32 headroom_pct; /* percent of one CPU free for compressing (0-100) */
	__u32 reserved;
	__u64 updated_at;   /* CLOCK_REALTIME seconds */
};

/* What the policy knows of a destination (map "paths", LRU, keyed by remote address): learnt
 * from the delivery-rate and RTT samples of earlier connections to it. */
struct bpfplug_comp_path_key {
	__u32 family;
	__u32 addr[4]; /* network order; IPv4 in [0] */
};

struct bpfplug_comp_path {
	__u64 bw_bps;      /* bandwidth estimate, bytes per second */
	__u32 srtt_us;     /* smoothed RTT of the last connection that reported */
	__u32 connections; /* connections whose samples made the estimate */
	__u64 updated_ns;  /* bpf_ktime_get_ns() of the last update */
};

/* One decision with its inputs (map "decisions", a ring of BPFPLUG_COMP_DECISIONS entries;
 * entry seq % BPFPLUG_COMP_DECISIONS, seq from 1, 0 = empty). */
#define BPFPLUG_COMP_DECISIONS 64

struct bpfplug_comp_decision {
	__u64 seq;
	__u64 decided_ns;
	__u32 family;
	__u8 role;        /* enum bpfplug_comp_role */
	__u8 reason;      /* enum bpfplug_comp_reason */
	__u8 known;       /* 1: N came from the paths map; 0: the unknown-destination default */
	__u8 reserved;
	__u32 remote_addr[4];
	__u16 local_port;
	__u16 remote_port;
	__u32 headroom_pct;
	__u64 bw_bps;     /* N used */
	__u64 vc_bps;     /* calibrated Vc (before the headroom scaling) */
	__u64 vd_bps;
	__u32 ratio_q;
	__u32 min_headroom_pct;
	__u64 cost_q;     /* R + N/Vc' + N/Vd with the scaled Vc'; BPFPLUG_COMP_COST_INFINITE if Vc' = 0 */
};

/* Everything the decision depends on. */
struct bpfplug_comp_model_in {
	__u64 bw_bps;           /* N; 0: no estimate */
	__u64 vc_bps;
	__u64 vd_bps;
	__u32 ratio_q;
	__u32 headroom_pct;     /* clamped to 100 */
	__u32 min_headroom_pct;
	__u32 calibrated;       /* 0: no calibration written */
};

/* R + N/V1 + N/V2, fixed point; V1 or V2 = 0 counts as infinitely slow. */
static inline __u64 bpfplug_comp_cost_q(__u64 bw_bps, __u64 vc_bps, __u64 vd_bps, __u32 ratio_q)
{
	if (!vc_bps || !vd_bps)
		return BPFPLUG_COMP_COST_INFINITE;
	return (__u64)ratio_q + (bw_bps << BPFPLUG_COMP_Q) / vc_bps + (bw_bps << BPFPLUG_COMP_Q) / vd_bps;
}

/* Vc on the headroom there is: Vc * headroom / 100. */
static inline __u64 bpfplug_comp_scaled_vc(__u64 vc_bps, __u32 headroom_pct)
{
	if (headroom_pct > 100)
		headroom_pct = 100;
	return vc_bps / 100 * headroom_pct + vc_bps % 100 * headroom_pct / 100;
}

/* The verdict: BPFPLUG_COMP_YES or the reason not to compress; *cost_q gets the cost with the
 * scaled Vc (BPFPLUG_COMP_COST_INFINITE when it was not computed). */
static inline __u8 bpfplug_comp_cost_decide(const struct bpfplug_comp_model_in *in, __u64 *cost_q)
{
	__u32 headroom = in->headroom_pct > 100 ? 100 : in->headroom_pct;

	*cost_q = BPFPLUG_COMP_COST_INFINITE;
	if (!in->calibrated)
		return BPFPLUG_COMP_NOT_CALIBRATED;
	if (!in->bw_bps || in->bw_bps >= (1ULL << (63 - BPFPLUG_COMP_Q)))
		return BPFPLUG_COMP_NO_ESTIMATE;
	*cost_q = bpfplug_comp_cost_q(in->bw_bps, bpfplug_comp_scaled_vc(in->vc_bps, headroom), in->vd_bps,
				      in->ratio_q);
	if (headroom < in->min_headroom_pct)
		return BPFPLUG_COMP_CPU_BUSY;
	if (*cost_q < BPFPLUG_COMP_ONE)
		return BPFPLUG_COMP_YES;
	/* Would it have paid with a whole CPU? Then the CPU is what says no. */
	if (bpfplug_comp_cost_q(in->bw_bps, in->vc_bps, in->vd_bps, in->ratio_q) < BPFPLUG_COMP_ONE)
		return BPFPLUG_COMP_CPU_BUSY;
	return BPFPLUG_COMP_COST_HIGHER;
}

#endif /* BPFPLUG_COMP_COST_H */
