/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one header a congestion-control plugin includes:
 *
 *   #include "bpfplug_cc.h"
 *   BPFPLUG_PLUGIN("reno", "cc", "1.0.0", "...");
 *   ... callbacks calling bpfplug_cc_sock_init()/bpfplug_cc_sock_release() ...
 *   SEC(".struct_ops.link") struct tcp_congestion_ops reno = { ..., .name = "bpf_reno" };
 *
 * Besides the TCP accessors and kfunc fallbacks it provides socket accounting: the number of
 * connections currently running this plugin, which `bpfplug status` shows and `bpfplug unload`
 * checks. The kernel keeps no such count a user can read for BPF congestion controls, so each
 * plugin's init/release maintain it here.
 */
#ifndef BPFPLUG_CC_H
#define BPFPLUG_CC_H

#include "bpfplug_tcp.h"
#include "bpfplug_compat.h"
#include "bpfplug_meta.h"

char _license[] SEC("license") = "GPL"; /* the kernel accepts only GPL congestion controls */

BPFPLUG_GAUGE(bpfplug_sockets, "connections running this plugin now");
/*
 * Connections that started with this implementation. Each implementation (each swap's new
 * generation) has its own copy, so it shows where new connections went after a swap.
 */
BPFPLUG_COUNTER(bpfplug_connections, "connections that started with this implementation");

/* Call at the end of init(), once the connection stays with this plugin. */
static __always_inline void bpfplug_cc_sock_init(struct sock *sk)
{
	__sync_fetch_and_add(&bpfplug_sockets, 1);
	__sync_fetch_and_add(&bpfplug_connections, 1);
}

/*
 * Call from release(). The kernel calls release() for every socket that held these ops, also
 * those whose init() never ran (closed before the handshake finished) and again after a
 * tcp_disconnect(); icsk_ca_initialized (Linux 5.9+) tells which sockets init() counted.
 * tcp_init_congestion_control() sets it right after init() returns, so a plugin that falls
 * back to another algorithm from inside init() must not call bpfplug_cc_sock_init().
 */
static __always_inline void bpfplug_cc_sock_release(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	if (bpf_core_field_exists(icsk->icsk_ca_initialized) &&
	    !BPF_CORE_READ_BITFIELD(icsk, icsk_ca_initialized))
		return;
	__sync_fetch_and_add(&bpfplug_sockets, -1);
}

#endif /* BPFPLUG_CC_H */
