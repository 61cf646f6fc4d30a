/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel-compat layer for congestion-control plugins: every decision about "does the running
 * kernel have X" on the BPF side lives here, in one place.
 *
 * The kfuncs a BPF tcp_congestion_ops may call (tcp_slow_start, tcp_cong_avoid_ai,
 * tcp_reno_*) appear in Linux 5.13. Whether to call them is a load-time constant:
 * `bpfplug_cc_kfuncs` below lives in .rodata and the loader sets it from what it probed
 * (`bpfplug probe`: cc_kfuncs) before the kernel sees the object. .rodata is frozen, so the
 * verifier knows the value, follows only the branch taken, and removes the other one as dead
 * code, kfunc call included: one object serves kernels with and without the kfuncs.
 *
 * (libbpf's bpf_ksym_exists() on a kfunc is not usable for this: it becomes an ld_imm64 of a
 * BTF FUNC, which kernels before 6.4 reject, "pseudo btf_id N in ldimm64 isn't KIND_VAR",
 * although 5.13-6.3 have the kfuncs; found on the matrix's 6.1 guest.)
 *
 * The BPF fallbacks implement the same RFC 5681 / RFC 3465 behaviour as net/ipv4/tcp_cong.c.
 * Building with -DBPFPLUG_FORCE_BPF_FALLBACKS compiles the kfunc calls out, so the fallbacks
 * can be tested on kernels that have the kfuncs (tests/CMakeLists.txt does).
 */
#ifndef BPFPLUG_COMPAT_H
#define BPFPLUG_COMPAT_H

#include "bpfplug_tcp.h"

/* Set by the loader (loader/src/plugin_loader.cpp); 0 until then: the fallbacks are safe. */
const volatile __u32 bpfplug_cc_kfuncs = 0;

#ifdef BPFPLUG_FORCE_BPF_FALLBACKS
#define bpfplug_kfunc_exists(kfunc) 0
#else
#define bpfplug_kfunc_exists(kfunc) (bpfplug_cc_kfuncs != 0)
#endif

/* Slow start with Appropriate Byte Counting, L = infinity (RFC 3465 sec. 2.2; kernel
 * tcp_slow_start()): grow cwnd by the packets ACKed, but not past ssthresh; return the
 * ACKed packets left over for congestion avoidance. */
static __always_inline __u32 bpfplug_slow_start(struct tcp_sock *tp, __u32 acked)
{
	if (bpfplug_kfunc_exists(tcp_slow_start))
		return tcp_slow_start(tp, acked);

	__u32 cwnd = tcp_snd_cwnd(tp) + acked;
	if (cwnd > tp->snd_ssthresh)
		cwnd = tp->snd_ssthresh;
	acked -= cwnd - tcp_snd_cwnd(tp);
	__u32 clamp = tp->snd_cwnd_clamp;
	tcp_snd_cwnd_set(tp, cwnd < clamp ? cwnd : clamp);
	return acked;
}

/* Congestion avoidance: cwnd += 1 per w ACKed packets (RFC 5681 sec. 3.1, kernel
 * tcp_cong_avoid_ai(); the "credit" in snd_cwnd_cnt makes it exact for stretch ACKs). */
static __always_inline void bpfplug_cong_avoid_ai(struct tcp_sock *tp, __u32 w, __u32 acked)
{
	if (bpfplug_kfunc_exists(tcp_cong_avoid_ai)) {
		tcp_cong_avoid_ai(tp, w, acked);
		return;
	}

	__u32 cwnd = tcp_snd_cwnd(tp);
	if (w == 0)
		w = 1;
	/* If credits accumulated at a higher w, apply them gently now. */
	if (tp->snd_cwnd_cnt >= w) {
		tp->snd_cwnd_cnt = 0;
		cwnd++;
	}
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= w) {
		__u32 delta = tp->snd_cwnd_cnt / w;
		tp->snd_cwnd_cnt -= delta * w;
		cwnd += delta;
	}
	__u32 clamp = tp->snd_cwnd_clamp;
	tcp_snd_cwnd_set(tp, cwnd < clamp ? cwnd : clamp);
}

/* Multiplicative decrease on loss: ssthresh = max(cwnd / 2, 2) (RFC 5681 eq. 4). */
static __always_inline __u32 bpfplug_reno_ssthresh(struct sock *sk)
{
	if (bpfplug_kfunc_exists(tcp_reno_ssthresh))
		return tcp_reno_ssthresh(sk);

	__u32 half = tcp_snd_cwnd(tcp_sk(sk)) >> 1;
	return half > 2 ? half : 2;
}

/* Undo a spurious reduction: go back to the cwnd before it (kernel tcp_reno_undo_cwnd()). */
static __always_inline __u32 bpfplug_reno_undo_cwnd(struct sock *sk)
{
	if (bpfplug_kfunc_exists(tcp_reno_undo_cwnd))
		return tcp_reno_undo_cwnd(sk);

	const struct tcp_sock *tp = tcp_sk(sk);
	__u32 cwnd = tcp_snd_cwnd(tp);
	return cwnd > tp->prior_cwnd ? cwnd : tp->prior_cwnd;
}

/* Reno's cong_avoid: nothing while not cwnd-limited, slow start below ssthresh, then
 * additive increase of one segment per RTT (RFC 5681 sec. 3.1, kernel tcp_reno_cong_avoid()). */
static __always_inline void bpfplug_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked)
{
	if (bpfplug_kfunc_exists(tcp_reno_cong_avoid)) {
		tcp_reno_cong_avoid(sk, ack, acked);
		return;
	}

	struct tcp_sock *tp = tcp_sk(sk);
	if (!tcp_is_cwnd_limited(sk))
		return;
	if (tcp_in_slow_start(tp)) {
		acked = bpfplug_slow_start(tp, acked);
		if (!acked)
			return;
	}
	bpfplug_cong_avoid_ai(tp, tcp_snd_cwnd(tp), acked);
}

#endif /* BPFPLUG_COMPAT_H */
