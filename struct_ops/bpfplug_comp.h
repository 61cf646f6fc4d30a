/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The compression contract, shared by the policies (BPF, the .bpf.c files in policies/), the loader and the
 * data path (user space). Plain C with fixed-size types, so both sides read the same layout.
 *
 * - On the wire: openEuler tcp_comp's TCP option, experimental kind 254 with the 16-bit ExID
 *   0x7954 (RFC 6994), length 4: FE 04 79 54. In the SYN when the client's policy says yes,
 *   echoed in the SYN-ACK when the SYN carried it and the server's policy says yes. Compression
 *   is on for a connection only when both did.
 * - Readiness: the data path (or whatever compresses a socket's payload) declares a socket able
 *   to compress by creating its entry in the socket-storage map pinned at
 *   PIN_ROOT/_comp/ready, keyed by the socket's fd, BEFORE connect() or listen(). A policy acts
 *   on ready sockets only; the mark is cloned from a listener to the connections it accepts.
 * - Verdict: the policy writes each ready socket's verdict into the socket-storage map pinned
 *   at PIN_ROOT/_comp/verdict, which user space reads by fd (docs/policies.md).
 */
#ifndef BPFPLUG_COMP_H
#define BPFPLUG_COMP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define BPFPLUG_COMP_OPT_KIND 254   /* TCPOPT_EXP, RFC 6994 */
#define BPFPLUG_COMP_OPT_LEN 4
#define BPFPLUG_COMP_OPT_EXID 0x7954 /* tcp_comp's experiment id */

/* The pins of the contract, under bpfplug's pin root (the map names in the policies). */
#define BPFPLUG_COMP_PIN_DIR "_comp"
#define BPFPLUG_COMP_READY_MAP "ready"
#define BPFPLUG_COMP_VERDICT_MAP "verdict"

/* What can compress a ready socket's payload (struct bpfplug_comp_ready.codecs). */
#define BPFPLUG_COMP_CODEC_ZSTD_STREAM 0x1 /* tcp_comp's raw zstd stream (level 1) */

/* struct bpfplug_comp_ready.flags, which only user space writes and reads. */
#define BPFPLUG_COMP_READY_STREAM_STARTED 0x1 /* a process has sent or read compressed bytes on
					       * this connection: another process that gets the
					       * socket (exec, SCM_RIGHTS) cannot join its stream */

struct bpfplug_comp_ready {
	__u32 codecs; /* BPFPLUG_COMP_CODEC_* the owner can run; 0 counts as not ready */
	__u32 flags;  /* BPFPLUG_COMP_READY_*; 0 when marking */
};

enum bpfplug_comp_role {
	BPFPLUG_COMP_CLIENT = 1, /* the side that sent the SYN */
	BPFPLUG_COMP_SERVER = 2, /* the side that answered it */
};

/* Why a connection is or is not compressed. The policy's own verdict comes first
 * (BPFPLUG_COMP_YES or one of its reasons to say no), then what the handshake made of it. */
enum bpfplug_comp_reason {
	BPFPLUG_COMP_UNDECIDED = 0,
	BPFPLUG_COMP_YES = 1,             /* this side's policy wants compression */
	BPFPLUG_COMP_PORT_NOT_IN_SET = 2, /* comp-ports: the server port is not in the set */
	BPFPLUG_COMP_LOCAL_EXCLUDED = 3,  /* loopback or same-address connection, local=0 */
	BPFPLUG_COMP_COST_HIGHER = 4,     /* comp-cost: compressing would take longer */
	BPFPLUG_COMP_CPU_BUSY = 5,        /* comp-cost: too little CPU headroom */
	BPFPLUG_COMP_NO_CODEC = 6,        /* the owner cannot run the codec the policy needs */
	BPFPLUG_COMP_PEER_DECLINED = 7,   /* client: the SYN-ACK did not echo the option */
	BPFPLUG_COMP_PEER_DID_NOT_ASK = 8, /* server: the SYN did not carry the option */
	BPFPLUG_COMP_SYN_COOKIE = 9,      /* server: no SYN-ACK of ours with the option was acknowledged:
					   * a SYN cookie (which keeps no option) or a policy loaded
					   * mid-handshake */
	BPFPLUG_COMP_NOT_CALIBRATED = 10, /* comp-cost: no codec calibration written yet */
	BPFPLUG_COMP_NO_ESTIMATE = 11,    /* comp-cost: no bandwidth estimate for the destination
					   * and unknown_mbit=0 */
	BPFPLUG_COMP_REASON_COUNT
};

/* One ready socket's verdict (the "verdict" map). `on` is final once `established` is 1. */
struct bpfplug_comp_verdict {
	__u8 role;        /* enum bpfplug_comp_role */
	__u8 policy_yes;  /* this side's policy wanted compression */
	__u8 sent;        /* this side put the option on its SYN / SYN-ACK */
	__u8 received;    /* the peer's SYN / SYN-ACK carried the option */
	__u8 on;          /* both did: compress this connection */
	__u8 established; /* the handshake finished; the verdict is final */
	__u8 reason;      /* enum bpfplug_comp_reason: why it is (not) on */
	__u8 reserved;
	__u64 decided_ns; /* bpf_ktime_get_ns() of the policy's decision */
};

#endif /* BPFPLUG_COMP_H */
