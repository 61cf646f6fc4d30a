// The symbols the preload library puts in front of libc's: the only ones it exports.
#pragma once

#define BPFPLUG_INTERPOSE extern "C" __attribute__((visibility("default")))
