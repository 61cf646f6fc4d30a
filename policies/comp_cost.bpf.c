// SPDX-License-Identifier: GPL-2.0
/*
 * comp-cost: compress a connection when it pays, by the tcp_comp authors' model
 * R + N/Vc + N/Vd < 1 (struct_ops/bpfplug_comp_cost.h; docs/policies.md has a worked example).
 *
 * - N: the destination's bandwidth, which the policy learns itself: each ready connection,
 *   once established, sums the kernel's delivery-rate samples (rate_delivered packets of mss
 *   bytes over rate_interval_us, as tcp_get_info() reports them) taken at its sock_ops RTT
 *   callbacks while it had at least half its cwnd in flight, i.e. while the path and not the
 *   application set its pace, and out of slow start (whose rounds only show cwnd growing;
 *   they count only for a connection that never left it). Their ratio (an interval-weighted mean: short bursty samples
 *   weigh little) is reported after sample_acks callbacks, or when it closes, into an LRU map
 *   keyed by the remote address. Then it stops sampling: the connection runs no policy code
 *   any more. A connection that never filled its window when sending (a receiver) reports,
 *   at its close, the rate it received at over its life: a lower bound of the path (the sender
 *   may have paused), and the only thing a receiver can know of it. Without it the receiving
 *   side of a one-way transfer would never learn its peer, and, both sides having to agree,
 *   such a transfer would never be compressed.
 *   A destination not in the map gets unknown_mbit (0: no estimate, no compression).
 * - R, Vc, Vd: the codec's calibration on this machine, which bpfplug measures and writes into
 *   the "calibration" map at load (bpfplug calibrate).
 * - CPU headroom: written into the "host" map by bpfplug (at load; bpfplug agent keeps it
 *   current). Vc is scaled by it; below min_headroom nothing is compressed.
 * Every decision goes, with its inputs, into the "decisions" ring that
 * `bpfplug status comp-cost --explain` prints.
 */
#include "bpfplug_policy.h"
#include "bpfplug_comp_cost.h"

char _license[] SEC("license") = "GPL";

BPFPLUG_PLUGIN("comp-cost", "policy", "1.0.0",
	       "compress when R + N/Vc + N/Vd < 1: learnt bandwidth, calibrated codec, CPU headroom");
BPFPLUG_TUNABLE(__u32, min_headroom, 10, 0, 100, "percent of one CPU that must be free to compress at all");
BPFPLUG_TUNABLE(__u32, unknown_mbit, 0, 0, 10000000,
		"bandwidth assumed for a destination with no estimate yet, Mbit/s (0: do not compress)");
BPFPLUG_TUNABLE(__u32, sample_acks, 1000, 1, 1000000,
		"RTT samples (ACKs) of a connection after which it reports its delivery rate and stops sampling");
BPFPLUG_COUNTER(stat_decisions, "decisions taken (both roles)");
BPFPLUG_COUNTER(stat_reports, "connections that reported a delivery rate to the paths map");
BPFPLUG_COUNTER(stat_receive_reports, "of those, receivers that reported the rate they received at");

/* A connection that never filled its window when sending reports, at its close, the rate it
 * received at, if it received at least this much: several rounds at any rate worth compressing
 * for, not a request or a reply. */
#define RECEIVED_REPORT_MIN_BYTES (256 * 1024)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpfplug_comp_calibration);
} calibration SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpfplug_comp_host);
} host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct bpfplug_comp_path_key);
	__type(value, struct bpfplug_comp_path);
} paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFPLUG_COMP_DECISIONS);
	__type(key, __u32);
	__type(value, struct bpfplug_comp_decision);
} decisions SEC(".maps");

/* The last decision's sequence number. Two CPUs deciding at once may take the same slot of
 * the ring; it is a diagnostic record, and the verdicts themselves are not affected. */
__u64 decision_seq = 0;

/* A connection's delivery-rate sampling, from its establishment until it reports. */
struct sampling {
	__u64 delivered_bytes;    /* sums over the samples taken in congestion avoidance */
	__u64 interval_us;
	__u64 ss_delivered_bytes; /* and in slow start, used only if there are no others */
	__u64 ss_interval_us;
	__u64 established_ns;     /* bpf_ktime_get_ns() at establishment: the receive rate's start */
	__u32 samples;            /* RTT callbacks seen */
	__u32 reported;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sampling);
} samplings SEC(".maps");

#define TCP_FIN_WAIT1 4 /* include/net/tcp_states.h */
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8

static __always_inline void path_key_from(__u32 family, const __u32 *addr, struct bpfplug_comp_path_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->family = family;
	__builtin_memcpy(key->addr, addr, sizeof(key->addr));
}

static __always_inline void record(const struct bpfplug_comp_conn *conn, const struct bpfplug_comp_model_in *in,
				   bool known, __u64 cost_q, __u8 reason)
{
	__u64 seq = decision_seq + 1;
	__u32 slot = seq % BPFPLUG_COMP_DECISIONS;
	struct bpfplug_comp_decision *d;

	decision_seq = seq;
	d = bpf_map_lookup_elem(&decisions, &slot);
	if (!d)
		return;
	d->seq = seq;
	d->decided_ns = bpf_ktime_get_ns();
	d->family = conn->family;
	d->role = conn->role;
	d->reason = reason;
	d->known = known;
	__builtin_memcpy(d->remote_addr, conn->remote_ip, sizeof(d->remote_addr));
	d->local_port = conn->local_port;
	d->remote_port = conn->remote_port;
	d->headroom_pct = in->headroom_pct;
	d->bw_bps = in->bw_bps;
	d->vc_bps = in->vc_bps;
	d->vd_bps = in->vd_bps;
	d->ratio_q = in->ratio_q;
	d->min_headroom_pct = in->min_headroom_pct;
	d->cost_q = cost_q;
}

static __u8 policy_decide(const struct bpfplug_comp_conn *conn)
{
	struct bpfplug_comp_model_in in = {};
	struct bpfplug_comp_path_key key;
	struct bpfplug_comp_calibration *cal;
	struct bpfplug_comp_path *path;
	struct bpfplug_comp_host *h;
	__u32 zero = 0;
	__u64 cost_q;
	__u8 reason;

	cal = bpf_map_lookup_elem(&calibration, &zero);
	if (cal && cal->codec) {
		in.calibrated = 1;
		in.vc_bps = cal->vc_bps;
		in.vd_bps = cal->vd_bps;
		in.ratio_q = cal->ratio_q;
	}
	h = bpf_map_lookup_elem(&host, &zero);
	in.headroom_pct = h ? h->headroom_pct : 0;
	in.min_headroom_pct = min_headroom;
	path_key_from(conn->family, conn->remote_ip, &key);
	path = bpf_map_lookup_elem(&paths, &key);
	in.bw_bps = path ? path->bw_bps : (__u64)unknown_mbit * 125000; /* Mbit/s -> bytes/s */
	reason = bpfplug_comp_cost_decide(&in, &cost_q);
	bpfplug_count(stat_decisions, 1);
	record(conn, &in, path != 0, cost_q, reason);
	return reason;
}

/* Into the paths map: the first report sets the estimate; later ones move it a quarter of the
 * way (an EWMA over connections), so one odd connection does not swing it. */
static __always_inline void report(struct bpf_sock_ops *skops, struct sampling *s, bool closing)
{
	struct bpfplug_comp_conn conn;
	struct bpfplug_comp_path_key key;
	struct bpfplug_comp_path *old, fresh = {};
	__u64 bytes = s->delivered_bytes, us = s->interval_us, rate;

	/* The ctx fields before any branch: clang may otherwise compute its address once for two
	 * paths, and the verifier refuses a modified ctx pointer. */
	fresh.srtt_us = skops->srtt_us >> 3; /* tcp_sock keeps srtt << 3 */
	__u64 received = skops->bytes_received;
	s->reported = 1;
	if (!us) { /* never out of slow start: its rounds are a lower bound of the path */
		bytes = s->ss_delivered_bytes;
		us = s->ss_interval_us;
	}
	if (!us && closing) { /* never filled its window: a receiver; what it received, over its life */
		bytes = received;
		us = (bpf_ktime_get_ns() - s->established_ns) / 1000;
		if (bytes < RECEIVED_REPORT_MIN_BYTES)
			return;
		bpfplug_count(stat_receive_reports, 1);
	}
	if (!us || !bytes)
		return;
	/* bytes * 10^6 / us, without overflowing for any sum that fits a connection's life */
	rate = bytes / us * 1000000 + bytes % us * 1000000 / us;
	conn_from(skops, 0, &conn);
	path_key_from(conn.family, conn.remote_ip, &key);
	old = bpf_map_lookup_elem(&paths, &key);
	fresh.bw_bps = old ? (old->bw_bps * 3 + rate) / 4 : rate;
	fresh.connections = old ? old->connections + 1 : 1;
	fresh.updated_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&paths, &key, &fresh, BPF_ANY);
	bpfplug_count(stat_reports, 1);
}

static __always_inline void set_sampling_callbacks(struct bpf_sock_ops *skops, bool on)
{
	bpfplug_set_callbacks(skops, BPF_SOCK_OPS_RTT_CB_FLAG | BPF_SOCK_OPS_STATE_CB_FLAG, on);
}

/* An established ready connection starts sampling. */
static __always_inline void start_sampling(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	if (!sk || !socket_ready(sk))
		return;
	struct sampling *s = bpf_sk_storage_get(&samplings, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!s)
		return;
	s->established_ns = bpf_ktime_get_ns();
	set_sampling_callbacks(skops, true);
}

/* RTT_CB, once per ACK with an RTT sample (tcp_ack_update_rtt(), before the ACK's own rate
 * sample is made: the one read here is the previous ACK's). Counted only while at least half
 * of cwnd is in flight: the ACK has just taken its own segments out of packets_out, so a
 * window-limited sender shows a little under cwnd here, an application-limited one far less. */
static __always_inline void on_rtt_sample(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct sampling *s = sk ? bpf_sk_storage_get(&samplings, sk, 0, 0) : 0;
	__u32 interval = skops->rate_interval_us;

	if (!s || s->reported)
		return;
	if (interval && skops->packets_out * 2 >= skops->snd_cwnd) {
		__u64 bytes = (__u64)skops->rate_delivered * skops->mss_cache;

		if (skops->snd_cwnd < skops->snd_ssthresh) { /* slow start: cwnd, not the path, limits */
			s->ss_delivered_bytes += bytes;
			s->ss_interval_us += interval;
		} else {
			s->delivered_bytes += bytes;
			s->interval_us += interval;
		}
	}
	if (++s->samples >= sample_acks) {
		report(skops, s, false);
		set_sampling_callbacks(skops, false);
	}
}

/* STATE_CB: a connection that closes before sample_acks reports what it saw. */
static __always_inline void on_state_change(struct bpf_sock_ops *skops)
{
	__u32 new_state = skops->args[1];
	struct bpf_sock *sk = skops->sk;
	struct sampling *s;

	if (new_state != TCP_FIN_WAIT1 && new_state != TCP_CLOSE_WAIT && new_state != TCP_CLOSE)
		return;
	s = sk ? bpf_sk_storage_get(&samplings, sk, 0, 0) : 0;
	if (s && !s->reported)
		report(skops, s, true);
}

static __always_inline void learn_paths(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		start_sampling(skops);
		break;
	case BPF_SOCK_OPS_RTT_CB:
		on_rtt_sample(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		on_state_change(skops);
		break;
	}
}

BPFPLUG_COMP_POLICY_PROGRAM_WITH(learn_paths);
