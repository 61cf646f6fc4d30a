/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The sock_ops half every compression policy shares: readiness, the tcp_comp handshake, the
 * verdict. A policy (policies/NAME.bpf.c) includes this header, defines
 *
 *   static __u8 policy_decide(const struct bpfplug_comp_conn *conn);
 *
 * returning BPFPLUG_COMP_YES or its reason to say no (enum bpfplug_comp_reason), and ends with
 * BPFPLUG_COMP_POLICY_PROGRAM(), the sock_ops program that bpfplug attaches to a cgroup (or
 * BPFPLUG_COMP_POLICY_PROGRAM_WITH(fn) to see the other sock_ops callbacks too).
 *
 * The handshake (struct_ops/bpfplug_comp.h has the contract; docs/policies.md the picture):
 * - client, at connect() (TCP_CONNECT_CB): a ready socket asks the policy; if yes, it turns on
 *   the header-option callbacks, and the SYN (and any retransmission of it) carries FE 04 79 54.
 * - server, at listen() (TCP_LISTEN_CB): a ready listener turns on the header-option
 *   callbacks for its SYN-ACKs. For each SYN-ACK (HDR_OPT_LEN_CB, on the request socket) the
 *   option is echoed when the SYN carried it and the policy says yes; the decision is kept per
 *   connection (4-tuple) so that a retransmitted SYN-ACK says the same. A SYN cookie SYN-ACK
 *   never echoes: the cookie cannot remember the agreement (tcp_comp behaves alike).
 * - at ACTIVE_/PASSIVE_ESTABLISHED_CB: the verdict becomes final, on = both sides sent the
 *   option, and the header-option callbacks are turned off, so established traffic pays nothing.
 */
#ifndef BPFPLUG_POLICY_H
#define BPFPLUG_POLICY_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpfplug_comp.h"
#include "bpfplug_meta.h"

#define AF_INET 2   /* include/linux/socket.h */
#define AF_INET6 10
#define TCPHDR_SYN 0x02 /* include/net/tcp.h: tcp_flags bits */
#define TCPHDR_ACK 0x10

/* What a policy decides on. Addresses in network byte order, ports in host byte order. */
struct bpfplug_comp_conn {
	__u32 family;      /* AF_INET or AF_INET6 */
	__u32 role;        /* enum bpfplug_comp_role */
	__u32 local_ip[4]; /* IPv4: [0] only */
	__u32 remote_ip[4];
	__u16 local_port;
	__u16 remote_port;
	__u32 is_local;    /* loopback destination, or source == destination (tcp_comp's "local") */
};

static __u8 policy_decide(const struct bpfplug_comp_conn *conn);

BPFPLUG_COUNTER(stat_offered, "SYNs sent with the compression option");
BPFPLUG_COUNTER(stat_echoed, "SYN-ACKs sent with the compression option");
BPFPLUG_COUNTER(stat_declined, "handshakes of ready sockets where this side's policy said no");
BPFPLUG_COUNTER(stat_negotiated, "connections that finished their handshake with compression on");
BPFPLUG_COUNTER(stat_not_negotiated, "ready connections that finished their handshake without it");
BPFPLUG_COUNTER(stat_syn_cookies, "SYN-ACKs answered with a SYN cookie (no option)");
BPFPLUG_COUNTER(stat_errors, "header-option helper failures");

/* The contract maps, pinned by name under PIN_ROOT/_comp and shared by every policy. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE); /* cloned to accepted connections */
	__type(key, int);
	__type(value, struct bpfplug_comp_ready);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ready SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bpfplug_comp_verdict);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} verdict SEC(".maps");

/* The server's decision for a handshake in progress, from its first SYN-ACK until the ACK that
 * establishes the connection. LRU: handshakes that never finish age out. */
struct handshake_key {
	__u32 family;
	__u32 ports; /* local << 16 | remote */
	__u32 local_ip[4];
	__u32 remote_ip[4];
};

struct handshake {
	__u64 decided_ns;
	__u32 isn; /* the SYN-ACK's sequence number, host order: the ACK must acknowledge isn + 1 */
	__u8 policy_yes;
	__u8 reason;
	__u8 written;
	__u8 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct handshake_key);
	__type(value, struct handshake);
} handshakes SEC(".maps");

static __always_inline bool is_loopback(const struct bpfplug_comp_conn *c)
{
	if (c->family == AF_INET)
		return (bpf_ntohl(c->remote_ip[0]) >> 24) == 127;
	/* ::1, or ::ffff:127.x.y.z */
	if (!c->remote_ip[0] && !c->remote_ip[1] && !c->remote_ip[2] && c->remote_ip[3] == bpf_htonl(1))
		return true;
	return !c->remote_ip[0] && !c->remote_ip[1] && c->remote_ip[2] == bpf_htonl(0xffff) &&
	       (bpf_ntohl(c->remote_ip[3]) >> 24) == 127;
}

/* The connection as sock_ops sees it; works on full and request sockets alike. */
static __always_inline void conn_from(struct bpf_sock_ops *skops, __u32 role, struct bpfplug_comp_conn *c)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->family = skops->family;
	c->role = role;
	c->local_port = (__u16)skops->local_port;              /* host order */
	c->remote_port = (__u16)bpf_ntohl(skops->remote_port); /* network order, in the high half */
	if (c->family == AF_INET) {
		c->local_ip[0] = skops->local_ip4;
		c->remote_ip[0] = skops->remote_ip4;
	} else {
		c->local_ip[0] = skops->local_ip6[0];
		c->local_ip[1] = skops->local_ip6[1];
		c->local_ip[2] = skops->local_ip6[2];
		c->local_ip[3] = skops->local_ip6[3];
		c->remote_ip[0] = skops->remote_ip6[0];
		c->remote_ip[1] = skops->remote_ip6[1];
		c->remote_ip[2] = skops->remote_ip6[2];
		c->remote_ip[3] = skops->remote_ip6[3];
	}
	c->is_local = is_loopback(c) || (c->local_ip[0] == c->remote_ip[0] && c->local_ip[1] == c->remote_ip[1] &&
					 c->local_ip[2] == c->remote_ip[2] && c->local_ip[3] == c->remote_ip[3]);
}

static __always_inline void key_from(const struct bpfplug_comp_conn *c, struct handshake_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = c->family;
	k->ports = (__u32)c->local_port << 16 | c->remote_port;
	__builtin_memcpy(k->local_ip, c->local_ip, sizeof(k->local_ip));
	__builtin_memcpy(k->remote_ip, c->remote_ip, sizeof(k->remote_ip));
}

/* The server-side handshake key of the connection sock_ops is called for. */
static __always_inline void handshake_key_of(struct bpf_sock_ops *skops, struct handshake_key *key)
{
	struct bpfplug_comp_conn conn;

	conn_from(skops, BPFPLUG_COMP_SERVER, &conn);
	key_from(&conn, key);
}

static __always_inline bool socket_ready(struct bpf_sock *sk)
{
	struct bpfplug_comp_ready *r = bpf_sk_storage_get(&ready, sk, 0, 0);

	return r && r->codecs;
}

/* Does the SYN (server, while writing the SYN-ACK) or the SYN-ACK (client, at
 * ACTIVE_ESTABLISHED) carry FE 04 79 54? */
static __always_inline bool has_comp_option(struct bpf_sock_ops *skops, __u64 flags)
{
	__u8 opt[BPFPLUG_COMP_OPT_LEN] = {BPFPLUG_COMP_OPT_KIND, BPFPLUG_COMP_OPT_LEN,
					  BPFPLUG_COMP_OPT_EXID >> 8, BPFPLUG_COMP_OPT_EXID & 0xff};

	return bpf_load_hdr_opt(skops, opt, sizeof(opt), flags) > 0;
}

/* Turns the sock_ops callbacks in `mask` (BPF_SOCK_OPS_*_CB_FLAG) on or off for this socket. */
static __always_inline void bpfplug_set_callbacks(struct bpf_sock_ops *skops, __u32 mask, bool on)
{
	__u32 flags = skops->bpf_sock_ops_cb_flags;

	flags = on ? flags | mask : flags & ~mask;
	if (flags != skops->bpf_sock_ops_cb_flags && bpf_sock_ops_cb_flags_set(skops, flags))
		bpfplug_count(stat_errors, 1);
}

static __always_inline void set_hdr_opt_callbacks(struct bpf_sock_ops *skops, bool on)
{
	bpfplug_set_callbacks(skops, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG, on);
}

/* connect() of a ready socket: decide, and have the SYN carry the option if yes. */
static __always_inline void on_connect(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct bpfplug_comp_conn conn;
	struct bpfplug_comp_verdict *v;

	if (!sk || !socket_ready(sk))
		return;
	v = bpf_sk_storage_get(&verdict, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!v)
		return;
	conn_from(skops, BPFPLUG_COMP_CLIENT, &conn);
	__u8 reason = policy_decide(&conn);
	v->role = BPFPLUG_COMP_CLIENT;
	v->policy_yes = reason == BPFPLUG_COMP_YES;
	v->sent = v->policy_yes;
	v->received = 0;
	v->on = 0;
	v->established = 0;
	v->reason = reason;
	v->decided_ns = bpf_ktime_get_ns();
	if (v->sent)
		set_hdr_opt_callbacks(skops, true);
	else
		bpfplug_count(stat_declined, 1);
}

/* listen() of a ready socket: its SYN-ACKs may echo the option (decided per SYN). */
static __always_inline void on_listen(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	if (sk && socket_ready(sk))
		set_hdr_opt_callbacks(skops, true);
}

/* The server's decision for this SYN-ACK: the one already taken for this handshake, if any
 * (retransmitted SYN-ACKs say the same), else the policy's, if the SYN asked. */
static __always_inline struct handshake *synack_decision(struct bpf_sock_ops *skops)
{
	struct bpfplug_comp_conn conn;
	struct handshake_key key;
	struct handshake *hs, fresh = {};

	conn_from(skops, BPFPLUG_COMP_SERVER, &conn);
	key_from(&conn, &key);
	hs = bpf_map_lookup_elem(&handshakes, &key);
	if (hs)
		return hs;
	fresh.decided_ns = bpf_ktime_get_ns();
	if (!has_comp_option(skops, BPF_LOAD_HDR_OPT_TCP_SYN)) {
		fresh.reason = BPFPLUG_COMP_PEER_DID_NOT_ASK;
	} else {
		fresh.reason = policy_decide(&conn);
		fresh.policy_yes = fresh.reason == BPFPLUG_COMP_YES;
		if (!fresh.policy_yes)
			bpfplug_count(stat_declined, 1);
	}
	bpf_map_update_elem(&handshakes, &key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&handshakes, &key);
}

static __always_inline bool is_synack(struct bpf_sock_ops *skops)
{
	return (skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) == (TCPHDR_SYN | TCPHDR_ACK);
}

static __always_inline bool is_syn(struct bpf_sock_ops *skops)
{
	return (skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN;
}

/* HDR_OPT_LEN_CB: room for the option on a SYN we offer on, or a SYN-ACK we echo on. */
static __always_inline void on_hdr_opt_len(struct bpf_sock_ops *skops)
{
	bool want = false;

	if (is_syn(skops)) {
		struct bpf_sock *sk = skops->sk;
		struct bpfplug_comp_verdict *v = sk ? bpf_sk_storage_get(&verdict, sk, 0, 0) : 0;
		want = v && v->sent;
	} else if (is_synack(skops)) {
		if (skops->args[0]) { /* want_cookie: a SYN cookie keeps no options */
			bpfplug_count(stat_syn_cookies, 1);
			return;
		}
		struct handshake *hs = synack_decision(skops);
		want = hs && hs->policy_yes;
	}
	if (want && bpf_reserve_hdr_opt(skops, BPFPLUG_COMP_OPT_LEN, 0))
		bpfplug_count(stat_errors, 1);
}

/* WRITE_HDR_OPT_CB: only reached where on_hdr_opt_len reserved room. */
static __always_inline void on_write_hdr_opt(struct bpf_sock_ops *skops)
{
	__u8 opt[BPFPLUG_COMP_OPT_LEN] = {BPFPLUG_COMP_OPT_KIND, BPFPLUG_COMP_OPT_LEN,
					  BPFPLUG_COMP_OPT_EXID >> 8, BPFPLUG_COMP_OPT_EXID & 0xff};
	bool synack = is_synack(skops);

	if (!synack && !is_syn(skops))
		return;
	if (bpf_store_hdr_opt(skops, opt, sizeof(opt), 0)) {
		bpfplug_count(stat_errors, 1);
		return;
	}
	if (!synack) {
		bpfplug_count(stat_offered, 1);
		return;
	}
	bpfplug_count(stat_echoed, 1);
	/* Remember which SYN-ACK carried it: the connection is only on if the ACK acknowledges it
	 * (not some later SYN-cookie exchange on the same 4-tuple). */
	struct handshake_key key;
	struct handshake *hs;
	struct tcphdr *th = (void *)(long)skops->skb_data;

	if ((void *)(th + 1) > (void *)(long)skops->skb_data_end)
		return;
	handshake_key_of(skops, &key);
	hs = bpf_map_lookup_elem(&handshakes, &key);
	if (hs) {
		hs->isn = bpf_ntohl(th->seq);
		hs->written = 1;
	}
}

static __always_inline void finish(struct bpfplug_comp_verdict *v)
{
	v->on = v->sent && v->received;
	v->established = 1;
	if (v->on) {
		v->reason = BPFPLUG_COMP_YES;
		bpfplug_count(stat_negotiated, 1);
	} else {
		bpfplug_count(stat_not_negotiated, 1);
	}
}

/* ACTIVE_ESTABLISHED_CB, skb = the SYN-ACK: on if we offered and the server echoed. */
static __always_inline void on_active_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct bpfplug_comp_verdict *v = sk ? bpf_sk_storage_get(&verdict, sk, 0, 0) : 0;

	set_hdr_opt_callbacks(skops, false);
	if (!v)
		return;
	if (v->sent) {
		v->received = has_comp_option(skops, 0);
		if (!v->received)
			v->reason = BPFPLUG_COMP_PEER_DECLINED;
	}
	finish(v);
}

/* PASSIVE_ESTABLISHED_CB, skb = the ACK that finished the handshake: on if the SYN-ACK it
 * acknowledges echoed the option. The new socket inherited the listener's ready mark (and its
 * header-option callbacks, turned off here). */
static __always_inline void on_passive_established(struct bpf_sock_ops *skops)
{
	struct handshake_key key;
	struct handshake *hs;
	struct bpfplug_comp_verdict *v;
	struct tcphdr *th = (void *)(long)skops->skb_data;
	struct bpf_sock *sk = skops->sk;

	set_hdr_opt_callbacks(skops, false);
	if (!sk || !socket_ready(sk))
		return;
	v = bpf_sk_storage_get(&verdict, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!v)
		return;
	handshake_key_of(skops, &key);
	hs = bpf_map_lookup_elem(&handshakes, &key);
	v->role = BPFPLUG_COMP_SERVER;
	v->on = 0;
	if (!hs) {
		v->policy_yes = 0;
		v->sent = 0;
		v->received = 0;
		v->reason = BPFPLUG_COMP_SYN_COOKIE;
		v->decided_ns = bpf_ktime_get_ns();
	} else {
		bool acked = (void *)(th + 1) <= (void *)(long)skops->skb_data_end &&
			     bpf_ntohl(th->ack_seq) == hs->isn + 1;
		v->policy_yes = hs->policy_yes;
		v->received = hs->reason != BPFPLUG_COMP_PEER_DID_NOT_ASK;
		v->sent = hs->policy_yes && hs->written && acked;
		v->reason = v->sent || !hs->policy_yes ? hs->reason : BPFPLUG_COMP_SYN_COOKIE;
		v->decided_ns = hs->decided_ns;
		bpf_map_delete_elem(&handshakes, &key);
	}
	finish(v);
}

/* The handshake's part of the sock_ops program. */
static __always_inline void bpfplug_comp_handshake(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops);
		break;
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		on_listen(skops);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		on_hdr_opt_len(skops);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		on_write_hdr_opt(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		on_active_established(skops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_passive_established(skops);
		break;
	}
}

/* The policy's program: the handshake, then `also(skops)` for callbacks of the policy's own
 * (e.g. comp-cost's RTT and state callbacks), after the handshake's for the same op. */
#define BPFPLUG_COMP_POLICY_PROGRAM_WITH(also)                                                     \
	SEC("sockops")                                                                             \
	int comp_policy(struct bpf_sock_ops *skops)                                                \
	{                                                                                          \
		if (skops->family != AF_INET && skops->family != AF_INET6)                         \
			return 1;                                                                  \
		bpfplug_comp_handshake(skops);                                                     \
		also(skops);                                                                       \
		return 1;                                                                          \
	}

static __always_inline void bpfplug_comp_nothing_more(struct bpf_sock_ops *skops) {}

#define BPFPLUG_COMP_POLICY_PROGRAM() BPFPLUG_COMP_POLICY_PROGRAM_WITH(bpfplug_comp_nothing_more)

#endif /* BPFPLUG_POLICY_H */
