#include "bpfplug/testbed/bottleneck_path.hpp"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bpfplug/error.hpp"
#include "bpfplug/testbed/shell.hpp"
#include "ecn_marker.skel.h"

namespace bpfplug::testbed {
namespace {

std::string in(const Netns& ns) { return "ip -n " + ns.name() + " "; }

// One skb, one packet: no segmentation offloads, no receive coalescing on the path.
void disable_offloads(const Netns& ns, const std::string& dev) {
  sh_or_throw("ip netns exec " + ns.name() + " ethtool -K " + dev + " gso off tso off gro off >/dev/null 2>&1");
}

// The last `lines` lines of a verifier log, on one line (newlines become "|").
std::string log_tail(const char* log, int lines) {
  std::string text(log);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::size_t pos = text.size();
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  std::string tail = pos == std::string::npos ? text : text.substr(pos + 1);
  for (auto& c : tail)
    if (c == '\n') c = '|';
  return tail.empty() ? "(none)" : tail;
}

}  // namespace

// The loaded marker and where it is attached; detaching happens with the namespace.
struct BottleneckPath::Marker {
  ~Marker() { ecn_marker_bpf::destroy(skel); }
  ecn_marker_bpf* skel = nullptr;
};

BottleneckPath::BottleneckPath(const std::string& prefix, const PathConfig& config)
    : config_(config), sender_(prefix + "-snd"), bottleneck_(prefix + "-btl"), receiver_(prefix + "-rcv") {
  // Links and addresses. Sender side: a veth pair, or the delay line's two TUN devices (which
  // never segment or coalesce: no offloads to turn off).
  std::vector<std::pair<const Netns*, const char*>> veth_ends = {{&bottleneck_, "b1"}, {&receiver_, "r0"}};
  const bool delayed = config_.one_way_delay.count() > 0;
  bool use_netem = false;
  if (!delayed || config_.delay_method != DelayMethod::delay_line) {
    sh_or_throw("ip link add s0 netns " + sender_.name() + " type veth peer name b0 netns " + bottleneck_.name());
    if (delayed) {
      // netem: the whole RTT on b0's egress (towards the sender); a generous limit, so that it
      // never drops (the bottleneck's buffer is TBF's).
      use_netem = sh("tc -n " + bottleneck_.name() + " qdisc add dev b0 root netem delay " +
                     std::to_string(2 * config_.one_way_delay.count()) + "us limit 1000000 2>/dev/null") == 0;
      if (!use_netem && config_.delay_method == DelayMethod::netem)
        throw std::runtime_error("this kernel has no netem (sch_netem); use DelayMethod::delay_line");
      if (!use_netem) sh_or_throw(in(sender_) + "link del s0");
    }
  }
  if (delayed && !use_netem) {
    delay_ = std::make_unique<DelayLine>(DelayLineEnd{&sender_, "s0", "198.18.1.1"},
                                         DelayLineEnd{&bottleneck_, "b0", "198.18.1.2"}, config_.one_way_delay);
  } else {
    sh_or_throw(in(sender_) + "addr add 198.18.1.1/24 dev s0");
    sh_or_throw(in(bottleneck_) + "addr add 198.18.1.2/24 dev b0");
    veth_ends.insert(veth_ends.begin(), {{&sender_, "s0"}, {&bottleneck_, "b0"}});
  }
  netem_ = use_netem;
  sh_or_throw("ip link add b1 netns " + bottleneck_.name() + " type veth peer name r0 netns " + receiver_.name());
  sh_or_throw(in(bottleneck_) + "addr add 198.18.2.1/24 dev b1");
  sh_or_throw(in(receiver_) + "addr add 198.18.2.2/24 dev r0");
  for (const auto& [ns, dev] : veth_ends) {
    disable_offloads(*ns, dev);
    sh_or_throw(in(*ns) + "link set " + dev + " up");
  }
  sh_or_throw(in(sender_) + "route add default via 198.18.1.2");
  sh_or_throw(in(receiver_) + "route add default via 198.18.2.1");
  bottleneck_.set_sysctl("net.ipv4.ip_forward", "1");
  for (const Netns* end : {&sender_, &receiver_}) {
    end->set_sysctl("net.ipv4.tcp_ecn", "1");
    // Every connection starts afresh: no ssthresh or RTT remembered from an earlier one.
    end->set_sysctl("net.ipv4.tcp_no_metrics_save", "1");
  }

  // Shaper: TBF at the rate, drop-tail beyond buffer_bytes. The bucket holds 1 ms of traffic
  // (at least two full-size packets) so shaping is smooth but not timer-bound.
  std::uint64_t bytes_per_sec = config_.rate_bps / 8;
  std::uint64_t burst = std::max<std::uint64_t>(3028, bytes_per_sec / 1000);
  sh_or_throw(in(bottleneck_) + "link set b1 txqueuelen 10000");  // never the bottleneck itself
  sh_or_throw("tc -n " + bottleneck_.name() + " qdisc add dev b1 root tbf rate " + std::to_string(config_.rate_bps) + "bit burst " +
              std::to_string(burst) + " limit " + std::to_string(config_.buffer_bytes));

  // Marker, attached to clsact egress of b1, in front of TBF.
  marker_ = std::make_unique<Marker>();
  marker_->skel = ecn_marker_bpf::open();
  if (!marker_->skel) throw std::runtime_error("can't open the ECN marker: " + errno_text(errno));
  marker_->skel->rodata->k_bytes = config_.ecn_k_bytes.value_or(0);
  marker_->skel->rodata->drop_below =
      static_cast<std::uint32_t>(std::clamp(config_.loss, 0.0, 1.0) * 4294967295.0);
  // The verifier's log, kept for the error: what a kernel refuses in the marker is in there.
  std::vector<char> verifier_log(256 * 1024);
  bpf_program__set_log_buf(marker_->skel->progs.ecn_marker, verifier_log.data(), verifier_log.size());
  if (int err = ecn_marker_bpf::load(marker_->skel))
    throw std::runtime_error("can't load the ECN marker: " + errno_text(err) + "; the verifier's last words: " +
                             log_tail(verifier_log.data(), 6));
  int prog_fd = bpf_program__fd(marker_->skel->progs.ecn_marker);
  bottleneck_.run_inside([&] {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(if_nametoindex("b1")), .attach_point = BPF_TC_EGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST) throw std::runtime_error("can't create clsact on b1: " + errno_text(err));
    if ((err = bpf_tc_attach(&hook, &opts)))
      throw std::runtime_error("can't attach the ECN marker to b1: " + errno_text(err));
  });
}

BottleneckPath::~BottleneckPath() = default;

const char* BottleneckPath::delay_method() const {
  if (config_.one_way_delay.count() == 0) return "none";
  return netem_ ? "netem" : "delay line";
}  // the namespaces go, and with them qdiscs and filters

MarkerStats BottleneckPath::marker_stats() const {
  const auto* bss = marker_->skel->bss;
  return {bss->stat_packets, bss->stat_marked, bss->stat_dropped, bss->stat_max_backlog, bss->stat_backlog_sum,
          bss->stat_unread};
}

}  // namespace bpfplug::testbed
