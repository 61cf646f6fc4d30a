// libbpf's diagnostics (including verifier logs) go through spdlog, visible with `bpfplug -v`.
#pragma once

namespace bpfplug {
void route_libbpf_logs();
}
