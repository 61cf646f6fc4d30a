#include "bpfplug/comp_contract.hpp"

#include <bpf/bpf.h>

#include "bpfplug/error.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug {

std::string comp_reason_name(int reason) {
  switch (reason) {
    case BPFPLUG_COMP_UNDECIDED: return "undecided";
    case BPFPLUG_COMP_YES: return "yes";
    case BPFPLUG_COMP_PORT_NOT_IN_SET: return "port-not-in-set";
    case BPFPLUG_COMP_LOCAL_EXCLUDED: return "local-excluded";
    case BPFPLUG_COMP_COST_HIGHER: return "cost-higher";
    case BPFPLUG_COMP_CPU_BUSY: return "cpu-busy";
    case BPFPLUG_COMP_NO_CODEC: return "no-codec";
    case BPFPLUG_COMP_PEER_DECLINED: return "peer-declined";
    case BPFPLUG_COMP_PEER_DID_NOT_ASK: return "peer-did-not-ask";
    case BPFPLUG_COMP_SYN_COOKIE: return "syn-cookie";
    case BPFPLUG_COMP_NOT_CALIBRATED: return "not-calibrated";
    case BPFPLUG_COMP_NO_ESTIMATE: return "no-estimate";
    default: return "reason-" + std::to_string(reason);
  }
}

struct CompContract::Fds {
  UniqueFd ready, verdict;
};

CompContract::CompContract(const std::filesystem::path& pin_root) : fds_(std::make_shared<Fds>()) {
  auto dir = pin_root / kCompPinDir;
  fds_->ready = UniqueFd(bpf_obj_get((dir / kCompReadyMap).c_str()));
  fds_->verdict = UniqueFd(bpf_obj_get((dir / kCompVerdictMap).c_str()));
  if (!fds_->ready || !fds_->verdict)
    throw Error(Exit::failure, "can't open the compression contract maps in " + dir.string() + ": " + errno_text(errno),
                "load a compression policy first (bpfplug load comp-ports --set ports=...)");
}

void CompContract::mark_ready(int fd, std::uint32_t codecs) const {
  bpfplug_comp_ready value{codecs, 0};
  if (bpf_map_update_elem(fds_->ready.get(), &fd, &value, BPF_ANY))
    throw Error(Exit::failure, "can't mark socket " + std::to_string(fd) + " ready to compress: " + errno_text(errno),
                "mark a TCP socket before connect() or listen()");
}

std::optional<bpfplug_comp_verdict> CompContract::verdict(int fd) const {
  bpfplug_comp_verdict v{};
  if (bpf_map_lookup_elem(fds_->verdict.get(), &fd, &v)) return std::nullopt;
  return v;
}

}  // namespace bpfplug
