// SPDX-License-Identifier: GPL-2.0
/*
 * comp-ports: openEuler tcp_comp's own policy, as a plugin. Compress a connection when its
 * server port is in the set (the client tests its destination port, the server its own port:
 * net.ipv4.tcp_compression_ports), and never a local one (loopback destination, or source ==
 * destination) unless local=1 (net.ipv4.tcp_compression_local). An empty set compresses
 * nothing. The baseline every smarter policy is measured against (docs/policies.md).
 */
#include "bpfplug_policy.h"

char _license[] SEC("license") = "GPL";

BPFPLUG_PLUGIN("comp-ports", "policy", "1.0.0",
	       "compress connections to a set of server ports (openEuler tcp_comp's static policy)");
BPFPLUG_TUNABLE(__u32, local, 0, 0, 1, "1: compress loopback and same-address connections too");
BPFPLUG_PORTSET(ports, "server ports whose connections are compressed, e.g. 8080,9000-9100");

static __u8 policy_decide(const struct bpfplug_comp_conn *conn)
{
	__u16 server_port = conn->role == BPFPLUG_COMP_CLIENT ? conn->remote_port : conn->local_port;

	if (!bpfplug_portset_has(&ports, server_port))
		return BPFPLUG_COMP_PORT_NOT_IN_SET;
	if (conn->is_local && !local)
		return BPFPLUG_COMP_LOCAL_EXCLUDED;
	return BPFPLUG_COMP_YES;
}

BPFPLUG_COMP_POLICY_PROGRAM();
