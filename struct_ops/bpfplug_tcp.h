/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TCP socket accessors and constants shared by every congestion-control plugin.
 *
 * Types come from vmlinux/vmlinux.h and every field access is CO-RE-relocated, so these helpers
 * work on any kernel whose struct layout differs from the one the header was generated from.
 * The few #defines below are kernel constants that BTF cannot carry (macros, not types); each
 * is a stable UAPI or long-lived value and names its origin.
 */
#ifndef BPFPLUG_TCP_H
#define BPFPLUG_TCP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define SOL_TCP 6                    /* include/linux/socket.h (UAPI value) */
#define TCP_CONGESTION 13            /* include/uapi/linux/tcp.h */
#define TCP_INFINITE_SSTHRESH 0x7fffffff /* include/net/tcp.h */
#define TCP_CONG_NEEDS_ECN 0x2       /* include/net/tcp.h: tcp_congestion_ops.flags */
#define TCP_ECN_OK 1                 /* include/net/tcp.h: tcp_sock.ecn_flags bits */
#define TCP_ECN_QUEUE_CWR 2
#define TCP_ECN_DEMAND_CWR 4
#define TCP_ECN_SEEN 8
#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

static __always_inline struct tcp_sock *tcp_sk(const struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

static __always_inline struct inet_connection_sock *inet_csk(const struct sock *sk)
{
	return (struct inet_connection_sock *)sk;
}

/* The plugin's private per-connection state (icsk_ca_priv, 104 bytes on current kernels). */
static __always_inline void *inet_csk_ca(const struct sock *sk)
{
	return (void *)inet_csk(sk)->icsk_ca_priv;
}

static __always_inline __u32 tcp_snd_cwnd(const struct tcp_sock *tp)
{
	return tp->snd_cwnd;
}

static __always_inline void tcp_snd_cwnd_set(struct tcp_sock *tp, __u32 val)
{
	tp->snd_cwnd = val;
}

/* Sequence-space comparison, wrap-safe (include/net/tcp.h before()/after()). */
static __always_inline bool before(__u32 seq1, __u32 seq2)
{
	return (__s32)(seq1 - seq2) < 0;
}
#define after(seq2, seq1) before(seq1, seq2)

static __always_inline bool tcp_in_slow_start(const struct tcp_sock *tp)
{
	return tcp_snd_cwnd(tp) < tp->snd_ssthresh;
}

/* Is the sender limited by cwnd rather than by the application (kernel tcp_is_cwnd_limited())?
 * In slow start, cwnd must still reach twice what was in flight. */
static __always_inline bool tcp_is_cwnd_limited(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_in_slow_start(tp))
		return tcp_snd_cwnd(tp) < 2 * tp->max_packets_out;
	return !!BPF_CORE_READ_BITFIELD(tp, is_cwnd_limited);
}

/* The ca state (TCP_CA_Open, _Disorder, _CWR, _Recovery, _Loss). */
static __always_inline __u8 tcp_ca_state(const struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD(inet_csk(sk), icsk_ca_state);
}

#endif /* BPFPLUG_TCP_H */
