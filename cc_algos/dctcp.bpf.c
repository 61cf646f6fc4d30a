// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_dctcp: Data Center TCP (RFC 8257) with the behaviour of Linux net/ipv4/tcp_dctcp.c.
 *
 * Sender (RFC 8257 sec. 3.3): once per window of data, estimate the fraction F of packets
 * that came back CE-marked (Linux: delivered_ce / delivered) and smooth it into
 * alpha <- (1 - g) * alpha + g * F, alpha in 1/1024 units, g = 1/2^shift_g. On ECE the stack
 * calls ssthresh() at most once per window and DCTCP cuts cwnd by alpha/2 instead of half.
 * Loss (fast recovery or RTO) still halves the window, exactly like Reno (RFC 8257 sec. 3.5).
 * Growth is plain Reno (RFC 8257 sec. 3.4, RFC 5681) through the kernel's Reno kfuncs or
 * bpfplug_compat.h.
 *
 * Receiver (RFC 8257 sec. 3.2): ECE on outgoing ACKs mirrors the CE state of the last data
 * segment received, and every change of that state is ACKed at once. See
 * dctcp_ce_state_update() for the one part the BPF interface cannot do like the kernel.
 *
 * Like Linux, a connection whose peer did not negotiate ECN switches to the kernel's built-in
 * "reno" from init(); from then on it is no longer a bpf_dctcp connection.
 *
 * Intentionally left out: Protective Load Balancing (Linux tcp_plb_*, off by default, not
 * callable from BPF) and get_info (INET_DIAG_DCTCPINFO; the kernel rejects get_info for BPF
 * congestion controls; stat_last_alpha gives a coarse view instead).
 */
#include "bpfplug_cc.h"

BPFPLUG_PLUGIN("dctcp", "cc", "0.1.0",
	       "DCTCP (RFC 8257): cut cwnd in proportion to ECN marks; reno without ECN");
/* RFC 8257 sec. 3: a connection whose peer did not negotiate ECN must not run DCTCP; the
 * kernel's dctcp hands it to reno internally, a BPF one only can through bpf_setsockopt. */
BPFPLUG_REQUIRES(cc_setsockopt, "to hand connections without ECN to reno (RFC 8257 sec. 3), "
		 "a BPF congestion control must be allowed to call bpf_setsockopt");

/*
 * The default of alpha_on_init: 1024 as in Linux (an early ECE cuts cwnd by about half).
 * The variant "alpha0" (cc_algos/CMakeLists.txt) builds with 0: alpha then holds only what the
 * windows so far measured, so the first ECE cuts cwnd by that alpha/2 like every later one.
 * Everything else, the plugin version and the registered name included, is the same.
 */
#ifndef BPFPLUG_DCTCP_ALPHA_ON_INIT
#define BPFPLUG_DCTCP_ALPHA_ON_INIT 1024
#endif
#ifdef BPFPLUG_VARIANT_NAME
BPFPLUG_VARIANT(BPFPLUG_VARIANT_NAME,
		"DCTCP starting with alpha_on_init=" BPFPLUG_STR(BPFPLUG_DCTCP_ALPHA_ON_INIT)
		" instead of 1024: no halving at the first ECE, cuts follow the measured alpha");
#endif

BPFPLUG_TUNABLE(__u32, shift_g, 4, 0, 10,
		"alpha gain g = 1/2^shift_g (RFC 8257 sec. 3.3; 4: g = 1/16 as in Linux)");
BPFPLUG_TUNABLE(__u32, alpha_on_init, BPFPLUG_DCTCP_ALPHA_ON_INIT, 0, 1024,
		"initial alpha in 1/1024 (1024: first ECE halves cwnd, like Linux)");

BPFPLUG_COUNTER(stat_alpha_updates, "per-window alpha updates");
BPFPLUG_COUNTER(stat_reductions, "ssthresh calls: ECE cuts plus losses (stat_loss_reactions)");
BPFPLUG_COUNTER(stat_loss_reactions, "Reno halvings on fast recovery or RTO");
BPFPLUG_COUNTER(stat_undos, "spurious reductions undone");
BPFPLUG_COUNTER(stat_ce_transitions, "receiver CE state changes ACKed immediately");
BPFPLUG_COUNTER(stat_fallbacks, "connections switched to reno (no ECN)");
BPFPLUG_COUNTER(stat_fallback_errors, "switch to reno refused; connection kept on dctcp");
BPFPLUG_GAUGE(stat_last_alpha, "alpha (1/1024) after the last window that delivered data, any connection");

#define DCTCP_MAX_ALPHA 1024U
#define DCTCP_ALPHA_BITS 10 /* alpha and F are fractions scaled by 2^10 */

/* Per-connection state in icsk_ca_priv. */
struct dctcp {
	__u32 old_delivered;	/* tp->delivered when the current window started */
	__u32 old_delivered_ce;	/* tp->delivered_ce when the current window started */
	__u32 next_seq;		/* the window ends once snd_una reaches this */
	__u32 alpha;		/* smoothed fraction of CE-marked packets, 1/1024 */
	__u32 loss_cwnd;	/* cwnd before the last reduction, for undo */
	__u32 prior_rcv_nxt;	/* rcv_nxt when the receiver CE state was last updated */
	__u32 ce_state;		/* receiver: was the last data segment CE-marked? */
};

_Static_assert(sizeof(struct dctcp) <= 104, "struct dctcp must fit in icsk_ca_priv");

/* Start a new observation window: it ends when everything sent so far is ACKed. */
static __always_inline void dctcp_start_window(const struct tcp_sock *tp, struct dctcp *ca)
{
	ca->next_seq = tp->snd_nxt;
	ca->old_delivered = tp->delivered;
	ca->old_delivered_ce = tp->delivered_ce;
}

/*
 * alpha <- alpha - alpha * g + F * g (RFC 8257 sec. 3.3), in Linux's integer form: alpha keeps
 * its fractional bits, and once alpha >> shift_g rounds to 0 the rest is dropped (Linux's
 * min_not_zero), so alpha reaches exactly 0 after a run of unmarked windows.
 * F * g = (delivered_ce << (10 - shift_g)) / delivered, computed in 64 bits (Linux uses 32
 * and notes the overflow for shift_g = 1 after 8 M packets per window).
 */
static __always_inline __u32 dctcp_ewma(__u32 alpha, __u32 delivered, __u32 delivered_ce)
{
	__u32 g = shift_g < DCTCP_ALPHA_BITS ? shift_g : DCTCP_ALPHA_BITS;
	__u32 decay = alpha >> g;

	alpha -= decay ? decay : alpha;
	if (delivered_ce) {
		__u64 gf = ((__u64)delivered_ce << (DCTCP_ALPHA_BITS - g)) / (delivered ? delivered : 1);

		alpha = alpha + gf < DCTCP_MAX_ALPHA ? alpha + (__u32)gf : DCTCP_MAX_ALPHA;
	}
	return alpha;
}

/* Reno's reaction to loss (RFC 8257 sec. 3.5; Linux dctcp_react_to_loss()). */
static __always_inline void dctcp_react_to_loss(struct sock *sk)
{
	struct dctcp *ca = inet_csk_ca(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	__u32 cwnd = tcp_snd_cwnd(tp);

	ca->loss_cwnd = cwnd;
	tp->snd_ssthresh = cwnd >> 1 > 2 ? cwnd >> 1 : 2;
	bpfplug_count(stat_loss_reactions, 1);
}

/* ECE on our ACKs mirrors CE (RFC 8257 sec. 3.2; Linux dctcp_ece_ack_cwr()). */
static __always_inline void dctcp_set_ece(struct sock *sk, __u32 ce_state)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (ce_state)
		tp->ecn_flags |= TCP_ECN_DEMAND_CWR;
	else
		tp->ecn_flags &= ~TCP_ECN_DEMAND_CWR;
}

/*
 * Receiver CE state machine (RFC 8257 sec. 3.2; Linux dctcp_ece_ack_update()).
 *
 * On a state change the kernel first sends the delayed ACK, if one is pending
 * (icsk_ack.pending & ICSK_ACK_TIMER), for the data up to prior_rcv_nxt with ECE set for the
 * OLD state, and then forces an immediate ACK (ICSK_ACK_NOW) for the new segment with ECE
 * for the NEW state. A BPF congestion control cannot send an ACK (__tcp_send_ack is not a
 * kfunc), so only the second step happens here: the forced ACK covers both the delayed data
 * and the new segment and carries the new state. Consequence: at a CE onset the sender
 * counts the few delayed, unmarked segments as marked; at the end of a CE run, the reverse.
 * With delayed ACKs every 2 segments that is at most one segment per transition, a small
 * bias in F and thus alpha. prior_rcv_nxt is still kept so the state matches Linux.
 */
static __always_inline void dctcp_ce_state_update(struct sock *sk, struct dctcp *ca,
						  __u32 new_ce_state)
{
	if (ca->ce_state != new_ce_state) {
		inet_csk(sk)->icsk_ack.pending |= ICSK_ACK_NOW;
		bpfplug_count(stat_ce_transitions, 1);
	}
	ca->prior_rcv_nxt = tcp_sk(sk)->rcv_nxt;
	ca->ce_state = new_ce_state;
	dctcp_set_ece(sk, new_ce_state);
}

/* Linux runs DCTCP if ECN was negotiated, or while the socket is not yet connected
 * (listen / close: ECN is not known yet, the children or the later connect decide). */
static __always_inline bool dctcp_ecn_usable(const struct sock *sk)
{
	__u8 state = sk->__sk_common.skc_state;

	return (tcp_sk(sk)->ecn_flags & TCP_ECN_OK) || state == TCP_LISTEN || state == TCP_CLOSE;
}

/*
 * No ECN: switch to the kernel's built-in "reno", as Linux does (it swaps in its own
 * dctcp_reno ops; BPF can only go through TCP_CONGESTION). The switch also clears ECT from the
 * socket (tcp_reinit_congestion_control(), reno lacks TCP_CONG_NEEDS_ECN). The name must be a
 * writable buffer on the stack. Returns 0 when the connection now runs reno.
 */
static __always_inline int dctcp_fall_back_to_reno(struct sock *sk)
{
	char reno[] = "reno";

	return bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, reno, sizeof(reno));
}

static __always_inline void dctcp_state_init(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp *ca = inet_csk_ca(sk);

	ca->prior_rcv_nxt = tp->rcv_nxt;
	ca->alpha = alpha_on_init < DCTCP_MAX_ALPHA ? alpha_on_init : DCTCP_MAX_ALPHA;
	ca->loss_cwnd = 0;
	ca->ce_state = 0;
	dctcp_start_window(tp, ca);
}

SEC("struct_ops")
void BPF_PROG(dctcp_init, struct sock *sk)
{
	if (!dctcp_ecn_usable(sk)) {
		if (dctcp_fall_back_to_reno(sk) == 0) {
			/* The socket belongs to reno now: not counted, state not ours. */
			bpfplug_count(stat_fallbacks, 1);
			return;
		}
		/* Refused (e.g. -EBUSY inside a nested switch): stay DCTCP. Without ECE
		 * feedback alpha never matters and the connection reduces like Reno. */
		bpfplug_count(stat_fallback_errors, 1);
	}
	dctcp_state_init(sk);
	bpfplug_cc_sock_init(sk);
}

SEC("struct_ops")
void BPF_PROG(dctcp_release, struct sock *sk)
{
	bpfplug_cc_sock_release(sk);
}

/* Once per window (RFC 8257 sec. 3.3; Linux dctcp_update_alpha() as in_ack_event). */
SEC("struct_ops")
void BPF_PROG(dctcp_in_ack_event, struct sock *sk, __u32 flags)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct dctcp *ca = inet_csk_ca(sk);
	__u32 alpha;

	if (before(tp->snd_una, ca->next_seq))
		return;
	__u32 delivered = tp->delivered - ca->old_delivered;

	alpha = dctcp_ewma(ca->alpha, delivered, tp->delivered_ce - ca->old_delivered_ce);
	ca->alpha = alpha;
	dctcp_start_window(tp, ca);
	bpfplug_count(stat_alpha_updates, 1);
	/* A pure receiver also "updates" (decays) alpha on every segment, with nothing
	 * delivered; the gauge shows senders' alpha only. */
	if (delivered)
		stat_last_alpha = alpha;
}

/*
 * cwnd <- cwnd * (1 - alpha/2) (RFC 8257 sec. 3.3), floor 2 segments. Called by the stack on
 * ECE (entering CWR) and also when entering recovery or loss; for those two the loss paths
 * below overwrite ssthresh with Reno's halving right after.
 */
SEC("struct_ops")
__u32 BPF_PROG(dctcp_ssthresh, struct sock *sk)
{
	struct dctcp *ca = inet_csk_ca(sk);
	__u32 cwnd = tcp_snd_cwnd(tcp_sk(sk));
	__u32 cut = ((__u64)cwnd * ca->alpha) >> (DCTCP_ALPHA_BITS + 1);

	ca->loss_cwnd = cwnd;
	bpfplug_count(stat_reductions, 1);
	return cwnd - cut > 2 ? cwnd - cut : 2;
}

/*
 * Entering fast recovery: Reno halving (Linux dctcp_state()). RTO is handled once, in
 * cwnd_event(CA_EVENT_LOSS), which the stack raises before switching to TCP_CA_Loss; reacting
 * here to TCP_CA_Loss as well would only repeat it.
 */
SEC("struct_ops")
void BPF_PROG(dctcp_set_state, struct sock *sk, __u8 new_state)
{
	if (new_state == TCP_CA_Recovery && new_state != tcp_ca_state(sk))
		dctcp_react_to_loss(sk);
}

SEC("struct_ops")
void BPF_PROG(dctcp_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	struct dctcp *ca = inet_csk_ca(sk);

	switch (ev) {
	case CA_EVENT_ECN_IS_CE:
		dctcp_ce_state_update(sk, ca, 1);
		break;
	case CA_EVENT_ECN_NO_CE:
		dctcp_ce_state_update(sk, ca, 0);
		break;
	case CA_EVENT_LOSS:
		dctcp_react_to_loss(sk);
		break;
	default:
		break;
	}
}

/* Reno growth, slow start and congestion avoidance (RFC 8257 sec. 3.4: DCTCP changes only
 * the decrease). */
SEC("struct_ops")
void BPF_PROG(dctcp_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	bpfplug_reno_cong_avoid(sk, ack, acked);
}

/* Linux dctcp_cwnd_undo(): back to the cwnd before the spurious reduction. */
SEC("struct_ops")
__u32 BPF_PROG(dctcp_undo_cwnd, struct sock *sk)
{
	const struct dctcp *ca = inet_csk_ca(sk);
	__u32 cwnd = tcp_snd_cwnd(tcp_sk(sk));

	bpfplug_count(stat_undos, 1);
	return cwnd > ca->loss_cwnd ? cwnd : ca->loss_cwnd;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops dctcp = {
	.init = (void *)dctcp_init,
	.release = (void *)dctcp_release,
	.in_ack_event = (void *)dctcp_in_ack_event,
	.ssthresh = (void *)dctcp_ssthresh,
	.set_state = (void *)dctcp_set_state,
	.cwnd_event = (void *)dctcp_cwnd_event,
	.cong_avoid = (void *)dctcp_cong_avoid,
	.undo_cwnd = (void *)dctcp_undo_cwnd,
	.flags = TCP_CONG_NEEDS_ECN,
	.name = "bpf_dctcp",
};
