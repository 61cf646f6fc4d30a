/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Plugin metadata carried inside the BPF object itself.
 *
 * Each macro below emits one NUL-terminated text record into the ELF section
 * ".bpfplug.meta". libbpf skips sections it does not know, so the records never reach the
 * kernel; bpfplug's loader reads them straight from the object (loader/src/plugin_metadata.cpp),
 * so there is no hand-kept table of plugins, versions or tunables anywhere in user space.
 *
 * Record grammar (fields separated by '|'; the last field may itself contain '|'):
 *   plugin|NAME|KIND|VERSION|DESCRIPTION
 *   tunable|VAR|TYPE|DEFAULT|MIN|MAX|DESCRIPTION
 *   counter|VAR|DESCRIPTION
 *   gauge|VAR|DESCRIPTION
 *
 * A tunable is a `const volatile` global in .rodata: set by the loader before load
 * (`bpfplug load NAME --set VAR=VALUE`), constant for the verifier afterwards.
 * A counter is a 64-bit global in .bss that the plugin bumps and `bpfplug status` reads back
 * from the pinned map; a gauge is a signed one that may also go down or be overwritten.
 */
#ifndef BPFPLUG_META_H
#define BPFPLUG_META_H

#define BPFPLUG_META_SECTION ".bpfplug.meta"

#define __bpfplug_record(id, text)                                                   \
	static const char __bpfplug_meta_##id[]                                        \
		__attribute__((section(BPFPLUG_META_SECTION), used, aligned(1))) = text

/* Name the plugin. KIND is "cc" (tcp_congestion_ops) or "policy" (sock_ops). */
#define BPFPLUG_PLUGIN(name, kind, version, description)                             \
	__bpfplug_record(plugin, "plugin|" name "|" kind "|" version "|" description)

/* Declare a tunable: a read-only global with its default and inclusive range. */
#define BPFPLUG_TUNABLE(type, var, def, min, max, description)                       \
	__bpfplug_record(tunable_##var, "tunable|" #var "|" #type "|" #def "|" #min "|" \
					#max "|" description);                         \
	const volatile type var = (def)

/* Declare a counter: a u64 the plugin increments, read by `bpfplug status`. */
#define BPFPLUG_COUNTER(var, description)                                            \
	__bpfplug_record(counter_##var, "counter|" #var "|" description);              \
	__u64 var = 0

/* Declare a gauge: an s64 holding a current value (set it with a plain store, or add +/-1). */
#define BPFPLUG_GAUGE(var, description)                                              \
	__bpfplug_record(gauge_##var, "gauge|" #var "|" description);                  \
	__s64 var = 0

/* Atomically add to a counter (several CPUs run callbacks of one plugin at once). */
#define bpfplug_count(var, n) __sync_fetch_and_add(&(var), (n))

#endif /* BPFPLUG_META_H */
