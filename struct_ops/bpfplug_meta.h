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
 *   variant|NAME|DESCRIPTION
 *   tunable|VAR|TYPE|DEFAULT|MIN|MAX|DESCRIPTION
 *   counter|VAR|DESCRIPTION
 *   gauge|VAR|DESCRIPTION
 *   requires|FEATURE|WHY
 *   portset|VAR|DESCRIPTION
 *
 * A variant is the same plugin built with different defaults (cmake: bpfplug_add_plugin_variant,
 * which compiles the plugin's source again with extra -D defines and BPFPLUG_VARIANT_NAME set).
 * All variants of a plugin share its name and register the same kernel name, which is what lets
 * one replace another; an object without a variant record is the variant "default". Variant
 * names follow the rules of plugin names (a-z 0-9 _ -, at most 32, not starting with '_').
 *
 * A tunable is a `const volatile` global in .rodata: set by the loader before load
 * (`bpfplug load NAME --set VAR=VALUE`), constant for the verifier afterwards.
 * A counter is a 64-bit global in .bss that the plugin bumps and `bpfplug status` reads back
 * from the pinned map; a gauge is a signed one that may also go down or be overwritten.
 */
#ifndef BPFPLUG_META_H
#define BPFPLUG_META_H

#define BPFPLUG_META_SECTION ".bpfplug.meta"

/* A macro's value as a string literal: BPFPLUG_STR(BPFPLUG_DCTCP_ALPHA_ON_INIT) -> "1024". */
#define __bpfplug_str(x) #x
#define BPFPLUG_STR(x) __bpfplug_str(x)

#define __bpfplug_record(id, text)                                                   \
	static const char __bpfplug_meta_##id[]                                        \
		__attribute__((section(BPFPLUG_META_SECTION), used, aligned(1))) = text

/* Name the plugin. KIND is "cc" (tcp_congestion_ops) or "policy" (sock_ops). */
#define BPFPLUG_PLUGIN(name, kind, version, description)                             \
	__bpfplug_record(plugin, "plugin|" name "|" kind "|" version "|" description)

/*
 * Name the variant this object is, once, next to BPFPLUG_PLUGIN. Usually
 *   #ifdef BPFPLUG_VARIANT_NAME
 *   BPFPLUG_VARIANT(BPFPLUG_VARIANT_NAME, "what differs from the default");
 *   #endif
 * so the plugin's own build stays "default" and each bpfplug_add_plugin_variant() build is named.
 */
#define BPFPLUG_VARIANT(name, description)                                           \
	__bpfplug_record(variant, "variant|" name "|" description)

/* Declare a tunable: a read-only global with its default and inclusive range. Default and bounds
 * may be macros (a variant's build overrides a default with -D) that expand to a plain integer
 * literal such as 0, -1 or 0x10 (no suffix, no parentheses): the record holds the expansion. */
#define BPFPLUG_TUNABLE(type, var, def, min, max, description)                       \
	__bpfplug_record(tunable_##var, "tunable|" #var "|" #type "|" BPFPLUG_STR(def) "|" \
					BPFPLUG_STR(min) "|" BPFPLUG_STR(max) "|" description); \
	const volatile type var = (def)

/* Declare a counter: a u64 the plugin increments, read by `bpfplug status`. */
#define BPFPLUG_COUNTER(var, description)                                            \
	__bpfplug_record(counter_##var, "counter|" #var "|" description);              \
	__u64 var = 0

/* Declare a gauge: an s64 holding a current value (set it with a plain store, or add +/-1). */
#define BPFPLUG_GAUGE(var, description)                                              \
	__bpfplug_record(gauge_##var, "gauge|" #var "|" description);                  \
	__s64 var = 0

/*
 * Declare a port set: an array map VAR of 1024 u64 words, bit p % 64 of word p / 64 set for each
 * port p in the set, filled by the loader from `--set VAR=8080,9000-9100` after load and before
 * the program is attached. Test a port with bpfplug_portset_has(&VAR, port).
 */
#define BPFPLUG_PORTSET(var, description)                                            \
	__bpfplug_record(portset_##var, "portset|" #var "|" description);              \
	struct {                                                                       \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                      \
		__uint(max_entries, 1024);                                             \
		__type(key, __u32);                                                    \
		__type(value, __u64);                                                  \
	} var SEC(".maps")

#define bpfplug_portset_has(map, port)                                               \
	({                                                                             \
		__u32 __word = (__u16)(port) / 64;                                     \
		__u64 *__bits = bpf_map_lookup_elem(map, &__word);                     \
		__bits && (*__bits >> ((__u16)(port) % 64) & 1);                       \
	})

/*
 * Declare a kernel feature the plugin cannot do without, by its `bpfplug probe` name (e.g.
 * "cc_setsockopt"). bpfplug refuses to load the plugin on a kernel lacking it, saying WHY,
 * instead of letting the verifier fail on it.
 */
#define BPFPLUG_REQUIRES(feature, why) __bpfplug_record(requires_##feature, "requires|" #feature "|" why)

/* Atomically add to a counter (several CPUs run callbacks of one plugin at once). */
#define bpfplug_count(var, n) __sync_fetch_and_add(&(var), (n))

#endif /* BPFPLUG_META_H */
