// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_cubic: CUBIC (RFC 9438) with the behaviour of Linux net/ipv4/tcp_cubic.c, HyStart included.
 *
 * After a reduction cwnd follows W(t) = C (t - K)^3 + W_max (RFC 9438 sec. 4.2), concave up
 * to the last maximum W_max, convex beyond it, never slower than the Reno-friendly estimate
 * (sec. 4.3) and never faster than 1.5 cwnd per RTT. Multiplicative decrease uses beta = 0.7
 * (sec. 4.6) and fast convergence lowers W_max when the flow lost ground (sec. 4.7).
 *
 * Linux's fixed-point scales are kept: beta in 1/1024, C = bic_scale * 10 / 1024 ~ 0.4, time
 * in 2^-10 s units, and t measured from the epoch start plus the minimum RTT. One change of
 * clock: Linux runs the curve on jiffies (tcp_jiffies32); here every time is tp->tcp_mstamp,
 * the stack's microsecond clock for this socket, converted to 2^-10 s where the curve needs it.
 * That makes the curve independent of CONFIG_HZ and keeps epochs in 64 bits (no wrap).
 *
 * Slow start ends at a loss or at a HyStart exit (Linux flavour: ACK train or delay increase,
 * see cubic_hystart_update()), which sets ssthresh = cwnd.
 *
 * Intentionally left out: the initial_ssthresh and bic_scale module parameters (fixed at
 * Linux's defaults 0 and 41), HyStart++ (RFC 9406, not in Linux CUBIC), and restoring W_max/K
 * on undo (RFC 9438 sec. 4.9 allows it; Linux, like this file, only restores cwnd).
 */
#include "bpfplug_cc.h"

BPFPLUG_PLUGIN("cubic", "cc", "0.1.0",
	       "CUBIC (RFC 9438) with Linux HyStart: cubic growth around the last maximum");

BPFPLUG_TUNABLE(__u32, beta, 717, 1, 1023,
		"multiplicative decrease factor in 1/1024 (717 ~ 0.7, RFC 9438 sec. 4.6)");
BPFPLUG_TUNABLE(__u32, fast_convergence, 1, 0, 1,
		"lower W_max when a flow loses ground (RFC 9438 sec. 4.7)");
BPFPLUG_TUNABLE(__u32, hystart, 1, 0, 1, "leave slow start early with HyStart");
BPFPLUG_TUNABLE(__u32, hystart_detect, 3, 1, 3, "HyStart signals: 1 ACK train, 2 delay, 3 both");
BPFPLUG_TUNABLE(__u32, hystart_low_window, 16, 2, 1024, "HyStart runs from this cwnd on");
BPFPLUG_TUNABLE(__u32, tcp_friendliness, 1, 0, 1,
		"never grow slower than Reno (RFC 9438 sec. 4.3)");

BPFPLUG_COUNTER(stat_epochs, "cubic epochs started (curve recomputed after a reduction)");
BPFPLUG_COUNTER(stat_reductions, "ssthresh reductions (loss or ECN)");
BPFPLUG_COUNTER(stat_loss_resets, "state resets on RTO (TCP_CA_Loss)");
BPFPLUG_COUNTER(stat_undos, "spurious reductions undone");
BPFPLUG_COUNTER(stat_hystart_exits, "slow starts ended by HyStart");
BPFPLUG_COUNTER(stat_hystart_train_exits, "HyStart exits on the ACK-train signal");
BPFPLUG_COUNTER(stat_hystart_delay_exits, "HyStart exits on the delay-increase signal");

#define BICTCP_BETA_SCALE 1024U	/* beta is in 1/1024 */
#define BICTCP_HZ_SHIFT 10	/* curve time unit: 2^-10 s */
#define BIC_SCALE 41U		/* C = BIC_SCALE * 10 / 1024 ~ 0.4 (RFC 9438 sec. 4.1.1) */
#define CUBIC_CNT_MIN 2U	/* at most 1 segment per 2 ACKed: 1.5 cwnd per RTT */
#define CUBIC_NO_MAX_CNT 20U	/* no W_max yet: at least 5% growth per RTT */
#define CUBIC_OFFS_MAX (1U << 18) /* |t - K| cap (256 s) so C (t-K)^3 fits in 64 bits */
/* Linux recomputes the curve at most once per jiffy, and not at all for an unchanged cwnd
 * within HZ/32; these are the same limits in microseconds (a 1 ms "jiffy"). */
#define CUBIC_UPDATE_GRAN_US USEC_PER_MSEC
#define CUBIC_SAME_CWND_US (USEC_PER_SEC / 32)

#define HYSTART_ACK_TRAIN 0x1
#define HYSTART_DELAY 0x2
#define HYSTART_MIN_SAMPLES 8		/* RTT samples per round for the delay signal */
#define HYSTART_DELAY_MIN_US 4000U	/* delay threshold: clamp(delay_min / 8, 4 ms, 16 ms) */
#define HYSTART_DELAY_MAX_US 16000U
#define HYSTART_ACK_DELTA_US 2000U	/* ACKs closer than this belong to one train */

/* Per-connection state in icsk_ca_priv. Everything up to `found` is cleared by cubic_reset(). */
struct cubic {
	__u64 epoch_start;	/* tcp_mstamp (us) when the current epoch began; 0: none */
	__u64 last_time;	/* tcp_mstamp (us) of the last curve computation */
	__u32 cnt;		/* grow cwnd by 1 every cnt ACKed segments */
	__u32 last_max_cwnd;	/* W_max: cwnd at the last reduction (after fast convergence) */
	__u32 last_cwnd;	/* cwnd at last_time */
	__u32 origin_point;	/* the curve's plateau for this epoch */
	__u32 bic_K;		/* time from epoch start to the plateau, 2^-10 s */
	__u32 delay_min;	/* minimum RTT, us */
	__u32 ack_cnt;		/* ACKed segments not yet credited to tcp_cwnd */
	__u32 tcp_cwnd;		/* Reno-friendly estimate W_est (RFC 9438 sec. 4.3) */
	__u8 found;		/* HyStart has ended this slow start */
	/* HyStart round state, see cubic_hystart_reset() */
	__u8 sample_cnt;	/* RTT samples taken this round */
	__u32 round_start;	/* tcp_mstamp (us, low 32 bits) at the start of the round */
	__u32 end_seq;		/* the round ends when snd_una passes this */
	__u32 last_ack;		/* time of the last ACK in the current train, us */
	__u32 curr_rtt;		/* minimum RTT seen this round, us */
	/* kept across resets */
	__u64 last_acked_us;	/* tcp_mstamp of the last ACK that acknowledged data */
};

_Static_assert(sizeof(struct cubic) <= 104, "struct cubic must fit in icsk_ca_priv");

/* ACKs per +1 of W_est, times 8 (Linux beta_scale): 1 / alpha_cubic = (1 + beta) / (3 (1 -
 * beta)) (RFC 9438 sec. 4.3). Computed from the tunable; the verifier sees a constant. */
static __always_inline __u32 cubic_beta_scale(void)
{
	return 8 * (BICTCP_BETA_SCALE + beta) / 3 / (BICTCP_BETA_SCALE - beta);
}

/* C in 1/1024 (Linux cube_rtt_scale). */
static __always_inline __u32 cubic_cube_rtt_scale(void)
{
	return BIC_SCALE * 10;
}

/* 2^(10 + 3 * 10) / (C * 1024): turns W_max - cwnd into K^3 in (2^-10 s)^3 (Linux
 * cube_factor), so that K = cbrt(cube_factor * (W_max - cwnd)) (RFC 9438 eq. 2). */
static __always_inline __u64 cubic_cube_factor(void)
{
	return (1ULL << (10 + 3 * BICTCP_HZ_SHIFT)) / cubic_cube_rtt_scale();
}

/*
 * floor(cbrt(a)), exact, by the digit-by-digit method: one bit of the root per group of three
 * bits of a, from the top. 22 fixed iterations, no table, no division, no fls64. (Linux uses
 * a 64-entry table and one Newton-Raphson step, ~0.2% error; this is slower but runs only once
 * per epoch.)
 *
 * The loop is branch-free on purpose: with an "if" the verifier walks every combination of
 * taken/not-taken (2^22 paths) and gives up. "take" is 1 when (a >> s) >= b, read from the
 * sign of the difference; both terms stay below 2^63 (b < 2^46 as y < 2^22; a >> s < 2^61 for
 * s >= 3, and by s = 0 the remainder a is below (3y^2 + 3y + 1) << 3 < 2^50).
 */
static __always_inline __u32 cubic_root(__u64 a)
{
	__u64 y = 0;
	int s;

	for (s = 63; s >= 0; s -= 3) {
		__u64 b, take;

		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		take = (((a >> s) - b) >> 63) ^ 1;
		a -= (b << s) & (0 - take);
		y += take;
	}
	return (__u32)y;
}

static __always_inline void cubic_reset(struct cubic *ca)
{
	__builtin_memset(ca, 0, offsetof(struct cubic, sample_cnt));
}

/* A HyStart round is one RTT: it ends when what is in flight now has been ACKed. */
static __always_inline void cubic_hystart_reset(struct sock *sk, struct cubic *ca)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	ca->round_start = ca->last_ack = (__u32)tp->tcp_mstamp;
	ca->end_seq = tp->snd_nxt;
	ca->curr_rtt = ~0U;
	ca->sample_cnt = 0;
}

/* New epoch after a reduction: the curve starts at cwnd and reaches the plateau W_max after
 * K (RFC 9438 sec. 4.2 eq. 2); if cwnd is already at or above W_max, the plateau is now. */
static __always_inline void cubic_epoch_start(struct cubic *ca, __u32 cwnd, __u32 acked,
					      __u64 now)
{
	ca->epoch_start = now;
	ca->ack_cnt = acked;
	ca->tcp_cwnd = cwnd;
	if (ca->last_max_cwnd <= cwnd) {
		ca->bic_K = 0;
		ca->origin_point = cwnd;
	} else {
		/* W_max - cwnd < 2^32 and cube_factor < 2^32: the product fits. */
		ca->bic_K = cubic_root(cubic_cube_factor() * (ca->last_max_cwnd - cwnd));
		ca->origin_point = ca->last_max_cwnd;
	}
	bpfplug_count(stat_epochs, 1);
}

/* W(t + RTT) = C (t + RTT - K)^3 + W_max (RFC 9438 sec. 4.2; Linux adds delay_min, the
 * minimum RTT, to look one RTT ahead). Returns the target in segments. */
static __always_inline __u64 cubic_target(const struct cubic *ca, __u64 now)
{
	__u64 elapsed_us = now > ca->epoch_start ? now - ca->epoch_start : 0;
	__u64 t = ((elapsed_us + ca->delay_min) << BICTCP_HZ_SHIFT) / USEC_PER_SEC;
	__u64 offs = t < ca->bic_K ? ca->bic_K - t : t - ca->bic_K;
	__u64 delta;

	if (offs > CUBIC_OFFS_MAX)
		offs = CUBIC_OFFS_MAX;
	delta = (cubic_cube_rtt_scale() * offs * offs * offs) >> (10 + 3 * BICTCP_HZ_SHIFT);
	if (t >= ca->bic_K)
		return ca->origin_point + delta;
	return delta < ca->origin_point ? ca->origin_point - delta : 0;
}

/* cnt: ACKed segments per +1 cwnd so that cwnd reaches the target in one RTT. Below the
 * target (the plateau) grow by a tiny 1/(100 cwnd) per ACK, like Linux. */
static __always_inline __u32 cubic_curve_cnt(const struct cubic *ca, __u32 cwnd, __u64 now)
{
	__u64 target = cubic_target(ca, now);
	__u32 cnt;

	if (target > cwnd)
		cnt = (__u32)(cwnd / (target - cwnd));
	else
		cnt = 100 * cwnd;
	if (ca->last_max_cwnd == 0 && cnt > CUBIC_NO_MAX_CNT)
		cnt = CUBIC_NO_MAX_CNT;
	return cnt;
}

/* Reno-friendly region (RFC 9438 sec. 4.3): W_est grows by alpha_cubic per cwnd of ACKed
 * segments; while W_est is ahead of cwnd, grow at least as fast as it. */
static __always_inline void cubic_reno_friendly(struct cubic *ca, __u32 cwnd)
{
	__u32 per_seg = (cwnd * cubic_beta_scale()) >> 3;

	if (per_seg && ca->ack_cnt > per_seg) {
		__u32 n = ca->ack_cnt / per_seg;

		ca->ack_cnt -= n * per_seg;
		ca->tcp_cwnd += n;
	}
	if (ca->tcp_cwnd > cwnd) {
		__u32 max_cnt = cwnd / (ca->tcp_cwnd - cwnd);

		if (ca->cnt > max_cnt)
			ca->cnt = max_cnt;
	}
}

/* Linux bictcp_update(): refresh ca->cnt for this ACK. */
static __always_inline void cubic_update(struct cubic *ca, __u32 cwnd, __u32 acked, __u64 now)
{
	ca->ack_cnt += acked;
	if (ca->last_cwnd == cwnd && now - ca->last_time <= CUBIC_SAME_CWND_US)
		return;
	/* Every reduction clears epoch_start, which forces a recomputation here. */
	if (!ca->epoch_start || now - ca->last_time >= CUBIC_UPDATE_GRAN_US) {
		ca->last_cwnd = cwnd;
		ca->last_time = now;
		if (!ca->epoch_start)
			cubic_epoch_start(ca, cwnd, acked, now);
		ca->cnt = cubic_curve_cnt(ca, cwnd, now);
	}
	if (tcp_friendliness)
		cubic_reno_friendly(ca, cwnd);
	/* The 1.5x per RTT cap of RFC 9438 sec. 4.2, as Linux applies it. */
	if (ca->cnt < CUBIC_CNT_MIN)
		ca->cnt = CUBIC_CNT_MIN;
}

/* Extra ACK-train tolerance when pacing spreads the ACKs (Linux hystart_ack_delay()): the time
 * to send 4 GSO packets at the pacing rate, at most 1 ms. */
static __always_inline __u32 hystart_ack_delay_us(const struct sock *sk)
{
	__u64 rate = sk->sk_pacing_rate;
	__u64 delay;

	if (!rate)
		return 0;
	delay = (__u64)sk->sk_gso_max_size * 4 * USEC_PER_SEC / rate;
	return delay < USEC_PER_MSEC ? (__u32)delay : USEC_PER_MSEC;
}

/* ACK-train signal: the closely spaced ACKs of this round have lasted longer than half the
 * minimum RTT (the whole RTT when paced), i.e. the pipe is full. */
static __always_inline bool hystart_ack_train(const struct sock *sk, struct cubic *ca, __u32 now)
{
	__u32 threshold;

	if ((__s32)(now - ca->last_ack) > (__s32)HYSTART_ACK_DELTA_US)
		return false;
	ca->last_ack = now;
	threshold = ca->delay_min + hystart_ack_delay_us(sk);
	if (sk->sk_pacing_status == SK_PACING_NONE)
		threshold >>= 1;
	return (__s32)(now - ca->round_start) > (__s32)threshold;
}

/* Delay signal: after HYSTART_MIN_SAMPLES samples this round, the round's minimum RTT exceeds
 * the connection's minimum by clamp(delay_min / 8, 4 ms, 16 ms): a queue is building. */
static __always_inline bool hystart_delay(struct cubic *ca, __u32 delay)
{
	__u32 thresh = ca->delay_min >> 3;

	if (ca->curr_rtt > delay)
		ca->curr_rtt = delay;
	if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
		ca->sample_cnt++;
		return false;
	}
	thresh = thresh < HYSTART_DELAY_MIN_US ? HYSTART_DELAY_MIN_US : thresh;
	thresh = thresh > HYSTART_DELAY_MAX_US ? HYSTART_DELAY_MAX_US : thresh;
	return ca->curr_rtt > ca->delay_min + thresh;
}

/*
 * Linux hystart_update(): start a new round when the last one is fully ACKed, then, from
 * hystart_low_window on, test the enabled signals; the first that fires ends slow start by
 * setting ssthresh = cwnd. (Linux may test the delay signal on the same ACK after the ACK
 * train fired; the outcome is the same, here each exit is counted under one signal.)
 */
static __always_inline void cubic_hystart_update(struct sock *sk, struct cubic *ca, __u32 delay)
{
	struct tcp_sock *tp = tcp_sk(sk);
	__u32 cwnd;

	if (after(tp->snd_una, ca->end_seq))
		cubic_hystart_reset(sk, ca);
	cwnd = tcp_snd_cwnd(tp);
	if (cwnd < hystart_low_window)
		return;
	if ((hystart_detect & HYSTART_ACK_TRAIN) &&
	    hystart_ack_train(sk, ca, (__u32)tp->tcp_mstamp))
		bpfplug_count(stat_hystart_train_exits, 1);
	else if ((hystart_detect & HYSTART_DELAY) && hystart_delay(ca, delay))
		bpfplug_count(stat_hystart_delay_exits, 1);
	else
		return;
	ca->found = 1;
	tp->snd_ssthresh = cwnd;
	bpfplug_count(stat_hystart_exits, 1);
}

SEC("struct_ops")
void BPF_PROG(cubic_init, struct sock *sk)
{
	struct cubic *ca = inet_csk_ca(sk);

	cubic_reset(ca);
	ca->last_acked_us = 0;
	if (hystart)
		cubic_hystart_reset(sk, ca);
	bpfplug_cc_sock_init(sk);
}

SEC("struct_ops")
void BPF_PROG(cubic_release, struct sock *sk)
{
	bpfplug_cc_sock_release(sk);
}

/* Slow start, then cubic growth; nothing while the application limits the flow
 * (RFC 9438 sec. 5.8; Linux cubictcp_cong_avoid()). */
SEC("struct_ops")
void BPF_PROG(cubic_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct cubic *ca = inet_csk_ca(sk);

	if (!tcp_is_cwnd_limited(sk))
		return;
	if (tcp_in_slow_start(tp)) {
		acked = bpfplug_slow_start(tp, acked);
		if (!acked)
			return;
	}
	cubic_update(ca, tcp_snd_cwnd(tp), acked, tp->tcp_mstamp);
	bpfplug_cong_avoid_ai(tp, ca->cnt, acked);
}

/* Multiplicative decrease and fast convergence (RFC 9438 sec. 4.6, 4.7; Linux
 * cubictcp_recalc_ssthresh()). Ends the epoch: the next ACK in congestion avoidance
 * starts a new curve. */
SEC("struct_ops")
__u32 BPF_PROG(cubic_ssthresh, struct sock *sk)
{
	struct cubic *ca = inet_csk_ca(sk);
	__u32 cwnd = tcp_snd_cwnd(tcp_sk(sk));
	__u32 ssthresh = cwnd * beta / BICTCP_BETA_SCALE;

	ca->epoch_start = 0;
	if (cwnd < ca->last_max_cwnd && fast_convergence)
		ca->last_max_cwnd = cwnd * (BICTCP_BETA_SCALE + beta) / (2 * BICTCP_BETA_SCALE);
	else
		ca->last_max_cwnd = cwnd;
	bpfplug_count(stat_reductions, 1);
	return ssthresh > 2 ? ssthresh : 2;
}

/* RTO: forget the curve, W_max and the minimum RTT, and restart HyStart (RFC 9438 sec. 4.8;
 * Linux cubictcp_state()). */
SEC("struct_ops")
void BPF_PROG(cubic_set_state, struct sock *sk, __u8 new_state)
{
	struct cubic *ca = inet_csk_ca(sk);

	if (new_state != TCP_CA_Loss)
		return;
	cubic_reset(ca);
	cubic_hystart_reset(sk, ca);
	bpfplug_count(stat_loss_resets, 1);
}

/* RTT samples for delay_min and HyStart (Linux cubictcp_acked()). Also notes the time of the
 * last ACK that acknowledged data, for the idle restart in cubic_cwnd_event(). */
SEC("struct_ops")
void BPF_PROG(cubic_pkts_acked, struct sock *sk, const struct ack_sample *sample)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct cubic *ca = inet_csk_ca(sk);
	__u64 now = tp->tcp_mstamp;
	__s32 rtt_us = sample->rtt_us;
	__u32 delay;

	ca->last_acked_us = now;
	if (rtt_us < 0) /* no RTT sample (e.g. only SACKed or retransmitted data) */
		return;
	/* Skip samples in the first second of an epoch: still inflated by the recovery. */
	if (ca->epoch_start && (__s64)(now - ca->epoch_start) < (__s64)USEC_PER_SEC)
		return;
	delay = rtt_us ? (__u32)rtt_us : 1;
	if (!ca->delay_min || ca->delay_min > delay)
		ca->delay_min = delay;
	if (!ca->found && tcp_in_slow_start(tp) && hystart)
		cubic_hystart_update(sk, ca, delay);
}

/*
 * Sending again after an idle period (nothing in flight): shift the epoch by the idle time so
 * t counts only time the flow could grow (RFC 9438 sec. 5.8; Linux cubictcp_cwnd_event()).
 * Linux measures idle from the last transmission (tp->lsndtime, in jiffies); with a microsecond
 * clock this file measures it from the last ACK of data, i.e. from the moment the pipe drained.
 * The shift is shorter by the last flight's RTT, during which the flow was not idle anyway.
 */
SEC("struct_ops")
void BPF_PROG(cubic_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	struct cubic *ca = inet_csk_ca(sk);
	__u64 now;

	if (ev != CA_EVENT_TX_START)
		return;
	now = tcp_sk(sk)->tcp_mstamp;
	if (!ca->epoch_start || !ca->last_acked_us || now <= ca->last_acked_us)
		return;
	ca->epoch_start += now - ca->last_acked_us;
	if (ca->epoch_start > now)
		ca->epoch_start = now;
}

/* Linux uses tcp_reno_undo_cwnd(): back to the cwnd before the spurious reduction
 * (tp->prior_cwnd, which the stack saves when the reduction starts). */
SEC("struct_ops")
__u32 BPF_PROG(cubic_undo_cwnd, struct sock *sk)
{
	bpfplug_count(stat_undos, 1);
	return bpfplug_reno_undo_cwnd(sk);
}

SEC(".struct_ops.link")
struct tcp_congestion_ops cubic = {
	.init = (void *)cubic_init,
	.release = (void *)cubic_release,
	.ssthresh = (void *)cubic_ssthresh,
	.cong_avoid = (void *)cubic_cong_avoid,
	.set_state = (void *)cubic_set_state,
	.undo_cwnd = (void *)cubic_undo_cwnd,
	.cwnd_event = (void *)cubic_cwnd_event,
	.pkts_acked = (void *)cubic_pkts_acked,
	.name = "bpf_cubic",
};
