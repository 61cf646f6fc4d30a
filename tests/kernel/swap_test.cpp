// `bpfplug swap`: the running implementation of a registered plugin replaced under the same
// name while connections keep arriving. Every swap is a real CLI process; the connections are
// real TCP over a veth pair between the test's namespaces.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "bpfplug/sysctl.hpp"
#include "bpfplug/testbed/connection_churn.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"
#include "kernel/kernel_fixture.hpp"
#include "kernel/object_files.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

class Swap : public KernelTest {
 protected:
  // The status JSON entry of generation `number`, or null.
  static nlohmann::json generation(const nlohmann::json& status, int number) {
    for (const auto& g : status["generations"])
      if (g["generation"] == number) return g;
    return nullptr;
  }
  std::int64_t connections_of(const nlohmann::json& status, int number) {
    auto g = generation(status, number);
    return g.is_null() ? -1 : g["counters"].value("bpfplug_connections", std::int64_t{-1});
  }
};

TEST_F(Swap, UnderLoadFailsNoConnectionAndKeepsOpenOnesOnTheOldImplementation) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  VethPair net(id_);

  // Long-lived connections opened before any swap: both ends (DCTCP needs ECN on both, RFC
  // 8257 sec. 3; Linux accepts an ECT-marked SYN only for a listener that needs ECN) must stay
  // on generation 1.
  std::vector<std::unique_ptr<TcpConnection>> long_lived;
  for (int i = 0; i < 3; ++i)
    long_lived.push_back(std::make_unique<TcpConnection>(TcpEnd{&net.a, "bpf_dctcp"}, TcpEnd{&net.b, "bpf_dctcp"},
                                                         VethPair::b_addr));
  ASSERT_EQ(generation(cli_json({"status", "dctcp"}), 1)["sockets"], 6);

  // The churn's listener is opened now, on generation 1: the connections it accepts inherit
  // that; the client sockets choose bpf_dctcp by name and get whatever is registered.
  ConnectionChurn churn(net.a, net.b, VethPair::b_addr, "bpf_dctcp", "bpf_dctcp");
  constexpr int kSwaps = 10;
  std::vector<std::string> variants;
  std::vector<std::int64_t> per_generation;
  for (int i = 0; i < kSwaps; ++i) {
    // Let connections reach the current implementation before replacing it.
    auto before = churn.completed();
    for (int w = 0; w < 200 && churn.completed() < before + 20; ++w) usleep(10000);
    // Connections that started on the generation about to be replaced (its client ends; its
    // counters are gone once a later swap unpins it).
    auto current = cli_json({"status", "dctcp"});
    per_generation.push_back(connections_of(current, i + 1));
    EXPECT_GT(per_generation.back(), 0) << "generation " << i + 1 << " got no connection";
    std::string to = i % 2 == 0 ? "alpha0" : "default";
    auto r = cli({"--json", "swap", "dctcp", "--to", to});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto swapped = nlohmann::json::parse(r.out);
    EXPECT_EQ(swapped["atomic"].get<bool>(), features_.struct_ops_link);
    EXPECT_EQ(swapped["to"]["variant"], to);
    variants.push_back(to);
  }
  auto before = churn.completed();
  for (int w = 0; w < 200 && churn.completed() < before + 20; ++w) usleep(10000);
  auto stats = churn.stop();

  std::string errors;
  for (const auto& e : stats.errors) errors += "\n  " + e;
  if (features_.struct_ops_link) {
    EXPECT_EQ(stats.failed(), 0u) << "of " << stats.attempted << " connections:" << errors;
  } else {
    // Map mode (no links): between unregistering the old map and registering the new one,
    // choosing the name fails with ENOENT (docs/lifecycle.md). Nothing else may fail.
    EXPECT_EQ(stats.failed_connect + stats.failed_data, 0u) << "of " << stats.attempted << ":" << errors;
    for (const auto& e : stats.errors) EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
    std::cout << "map mode: " << stats.failed_setup << " setsockopt(TCP_CONGESTION) refusals in the swap gaps\n";
  }
  EXPECT_GT(stats.completed, 10u * (kSwaps + 1));
  RecordProperty("connections_attempted", static_cast<int>(stats.attempted));
  RecordProperty("connections_failed", static_cast<int>(stats.failed()));
  RecordProperty("setsockopt_refused_in_swap_gaps", static_cast<int>(stats.failed_setup));

  // The churn's server ends close a moment after their clients: wait for generation 1 to hold
  // only the long-lived connections again.
  nlohmann::json status;
  for (int i = 0; i < 100; ++i) {
    status = cli_json({"status", "dctcp"});
    auto g = generation(status, 1);
    if (!g.is_null() && g["sockets"] == 6) break;
    usleep(20000);
  }
  EXPECT_EQ(status["generation"], kSwaps + 1);
  EXPECT_EQ(status["variant"], variants.back());
  EXPECT_EQ(status["tunables"]["alpha_on_init"], variants.back() == "alpha0" ? 0 : 1024);
  // New connections went to the newest implementation, the old ones stayed where they were.
  EXPECT_GT(connections_of(status, kSwaps + 1), 0) << status.dump(2);
  auto g1 = generation(status, 1);
  ASSERT_FALSE(g1.is_null()) << "generation 1 still runs the long-lived connections: " << status.dump(2);
  EXPECT_FALSE(g1["current"].get<bool>());
  EXPECT_EQ(g1["sockets"], 6);
  EXPECT_EQ(g1["variant"], "default");
  for (auto& conn : long_lived) {
    EXPECT_EQ(conn->client_cc(), "bpf_dctcp");
    EXPECT_EQ(conn->transfer(1 << 20), 1u << 20) << "a connection from before the swaps still moves data";
  }
  // Intermediate generations nobody runs any more were unpinned by the swaps that followed.
  EXPECT_LE(status["generations"].size(), 3u) << status.dump(2);
  per_generation.push_back(connections_of(status, kSwaps + 1));
  std::cout << "swap under load: " << stats.attempted << " connections attempted, " << stats.failed()
            << " failed, " << kSwaps << " swaps\nconnections that started on each generation (g1 default, then "
            << "alternating alpha0/default; g1 includes the churn server's ends):";
  for (std::size_t g = 0; g < per_generation.size(); ++g) std::cout << " g" << g + 1 << "=" << per_generation[g];
  std::cout << '\n';

  long_lived.clear();
  // Closed: the next command finds generation 1 unused and unpins it.
  nlohmann::json after;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(cli({"repair"}).exit_code, 0);
    after = cli_json({"status", "dctcp"});
    if (after["generations"].size() == 1) break;
    usleep(20000);
  }
  EXPECT_EQ(after["generations"].size(), 1u) << after.dump(2);
}

TEST_F(Swap, EachSwapSendsNewConnectionsToTheNewVariant) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  VethPair net(id_);
  auto count_new = [&](int gen) {
    for (int i = 0; i < 5; ++i) {
      TcpConnection conn({&net.a, "bpf_dctcp"}, {&net.b, "bpf_dctcp"}, VethPair::b_addr);
      EXPECT_EQ(conn.transfer(64 << 10), 64u << 10);
    }
    return connections_of(cli_json({"status", "dctcp"}), gen);
  };
  // Both ends count: each TcpConnection opens its own listener, on the implementation
  // registered at that moment.
  TcpConnection holder({&net.a, "bpf_dctcp"}, {&net.b, "bpf_dctcp"}, VethPair::b_addr);  // keeps g1 pinned
  EXPECT_EQ(count_new(1), 12);
  ASSERT_EQ(cli({"swap", "dctcp", "--to", "alpha0", "--set", "shift_g=6"}).exit_code, 0);
  EXPECT_EQ(count_new(2), 10);
  auto status = cli_json({"status", "dctcp"});
  EXPECT_EQ(connections_of(status, 1), 12) << "generation 1 got nothing after the swap";
  EXPECT_EQ(status["tunables"]["shift_g"], 6);
  EXPECT_EQ(status["tunables"]["alpha_on_init"], 0);
  EXPECT_EQ(status["variant"], "alpha0");
}

TEST_F(Swap, DefaultAndAllowedListFollowTheNewImplementation) {
  REQUIRE_NAME_FREE("bpf_reno");
  ASSERT_EQ(cli({"load", "reno", "--default", "--allow"}).exit_code, 0);
  ASSERT_EQ(cli({"swap", "reno", "--set", "nonexistent=1"}).exit_code, 2) << "reno has no tunables";
  auto r = cli({"swap", "reno"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), "bpf_reno");
  auto allowed = split_words(proc_sys("net/ipv4/tcp_allowed_congestion_control"));
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "bpf_reno"), allowed.end())
      << "the new implementation is allowed like the old one";
  // A socket taking the default now gets generation 2 (the default points at the new ops).
  VethPair net(id_);
  TcpConnection conn({&net.a, ""}, {&net.b, "cubic"}, VethPair::b_addr);
  (void)conn;
  // Namespaces copy the default when they are created: this pair was made after the swap.
  auto status = cli_json({"status", "reno"});
  EXPECT_EQ(connections_of(status, 2), 1) << status.dump(2);
}

TEST_F(Swap, RefusesWhatCannotReplaceThePluginAndLeavesItRunning) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  auto before = cli_json({"status", "dctcp"});

  auto expect_refused = [&](const std::vector<std::string>& args, int code, const std::string& needle) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    auto after = cli_json({"status", "dctcp"});
    EXPECT_EQ(after["ops_map_id"], before["ops_map_id"]) << "the running implementation was touched";
    EXPECT_EQ(after["generation"], 1);
  };
  TempObjectFile clash(clash_cubic_object(), "clash_cubic");
  TempObjectFile not_an_object(std::string("not ELF at all"), "garbage");
  TempObjectFile other_plugin(builtin_object("reno"), "reno");
  TempObjectFile other_name(dctcp_renamed_object(), "dctcp_renamed");
  TempObjectFile wrong_ops(wrong_ops_object(), "wrong_ops");
  expect_refused({"swap", "dctcp", "--to", "nosuch"}, 2, "no variant");
  expect_refused({"swap", "dctcpp"}, 2, "did you mean");
  expect_refused({"swap", "dctcp", "--object", "/nonexistent/x.bpf.o"}, 2, "can't read");
  expect_refused({"swap", "dctcp", "--object", not_an_object.path()}, 2, "not a bpfplug plugin object");
  expect_refused({"swap", "dctcp", "--object", other_plugin.path()}, 2, "is plugin reno, not dctcp");
  expect_refused({"swap", "dctcp", "--object", clash.path()}, 2, "is plugin");
  expect_refused({"swap", "dctcp", "--object", other_name.path()}, 2, "registers as bpf_dctcp2");
  expect_refused({"swap", "dctcp", "--object", wrong_ops.path()}, 2, "implements bpf_dummy_ops, not tcp_congestion_ops");
  expect_refused({"swap", "dctcp", "--to", "alpha0", "--object", other_plugin.path()}, 2, "not both");
  expect_refused({"swap", "dctcp", "--set", "shift_g=99"}, 2, "outside");
  // Not loaded at all:
  auto r = cli({"swap", "reno"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("not loaded"), std::string::npos) << r.err;
}

TEST_F(Swap, AcceptsAUserBuiltObjectOfTheSamePlugin) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  TempObjectFile user(dctcp_user_build_object(), "dctcp_user");
  auto r = cli({"--json", "swap", "dctcp", "--object", user.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto status = cli_json({"status", "dctcp"});
  EXPECT_EQ(status["object"], user.path());
  EXPECT_EQ(status["version"], "9.9.9-user");
  EXPECT_EQ(status["generation"], 2);
  // `swap` without --to/--object re-reads the recorded object (e.g. to change tunables).
  ASSERT_EQ(cli({"swap", "dctcp", "--set", "shift_g=2"}).exit_code, 0);
  status = cli_json({"status", "dctcp"});
  EXPECT_EQ(status["version"], "9.9.9-user");
  EXPECT_EQ(status["tunables"]["shift_g"], 2);
}

}  // namespace
}  // namespace bpfplug::test
