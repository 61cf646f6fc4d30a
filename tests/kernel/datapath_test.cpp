// The user-space compression data path with real programs from Debian (issue: tcp_comp for
// stock kernels): socat, curl against python3's http.server, redis-server with redis-benchmark
// and redis-cli, and an edge-triggered epoll echo server, each started with `bpfplug run` in
// the test's namespaces. Checked: byte-exact transfers, the bytes on the wire (fewer than sent
// when negotiated, and a stream the zstd command-line tool decodes), plain bytes when a side
// does not take part, and a broken stream ending only its own connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>

#include "bpfplug/datapath/stream_codec.hpp"
#include "kernel/comp_policy_fixture.hpp"
#include "kernel/process.hpp"

namespace bpfplug::test {
namespace {

const char* const kPrograms[] = {"/usr/bin/socat",       "/usr/bin/curl",          "/usr/bin/python3",
                                 "/usr/bin/redis-check-rdb", "/usr/bin/redis-benchmark", "/usr/bin/redis-cli",
                                 "/usr/bin/zstd",         "/usr/bin/nsenter"};

// Log lines a server would write: compressible as real logs are (zstd -1 takes them to about
// a fifth), and different all the way through.
void write_text(const fs::path& file, std::size_t size) {
  std::ofstream out(file, std::ios::binary);
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  std::string line;
  std::size_t written = 0;
  static const char* const kPaths[] = {"/api/v1/items", "/api/v1/users", "/static/app.js", "/healthz"};
  while (written < size) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    char buf[200];
    int n = std::snprintf(buf, sizeof(buf),
                          "2026-11-22T12:%02u:%02u.%03u INFO worker-%u request id=%08x path=%s/%u status=%u bytes=%u\n",
                          unsigned(x % 60), unsigned(x >> 8) % 60, unsigned(x >> 16) % 1000, unsigned(x >> 26) % 8,
                          unsigned(x >> 32), kPaths[(x >> 40) % 4], unsigned(x >> 44) % 5000,
                          (x >> 50) % 10 ? 200u : 404u, unsigned(x >> 20) % 90000);
    std::size_t take = std::min(size - written, static_cast<std::size_t>(n));
    out.write(buf, static_cast<std::streamsize>(take));
    written += take;
  }
}

void write_random(const fs::path& file, std::size_t size) {
  std::ofstream out(file, std::ios::binary);
  std::uint64_t x = 0x2545f4914f6cdd1dull;
  for (std::size_t i = 0; i < size; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out.write(reinterpret_cast<const char*>(&x), static_cast<std::streamsize>(std::min<std::size_t>(8, size - i)));
  }
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ProcessResult run_here(std::vector<std::string> argv) {
  Command c;
  c.argv = std::move(argv);
  return run(c);
}

bool same_contents(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::file_size(a, ec) != fs::file_size(b, ec)) return false;
  return run_here({"/usr/bin/cmp", "-s", a.string(), b.string()}).exit_code == 0;
}

// A namespace's received IP bytes so far (IpExt InOctets): what crossed the wire into it.
std::uint64_t in_octets(const Netns& ns) {
  std::uint64_t value = 0;
  ns.run_inside([&] {
    std::ifstream netstat("/proc/thread-self/net/netstat");
    std::string names, values;
    while (std::getline(netstat, names) && std::getline(netstat, values)) {
      if (!names.starts_with("IpExt:")) continue;
      std::istringstream n(names), v(values);
      for (std::string name, val; n >> name && v >> val;)
        if (name == "InOctets") value = std::stoull(val);
    }
  });
  return value;
}

// Waits until something listens on `port` in `ns` (without connecting to it, which a
// one-connection server would take as its client).
bool wait_listening(const Netns& ns, std::uint16_t port) {
  char wanted[8];
  std::snprintf(wanted, sizeof(wanted), ":%04X", port);
  for (int i = 0; i < 500; ++i) {
    bool found = false;
    ns.run_inside([&] {
      std::ifstream tcp("/proc/thread-self/net/tcp");
      std::string line;
      std::getline(tcp, line);  // the header
      while (std::getline(tcp, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        if (local.ends_with(wanted) && state == "0A") found = true;  // TCP_LISTEN
      }
    });
    if (found) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class DataPath : public CompPolicy {
 protected:
  void SetUp() override {
    CompPolicy::SetUp();
    if (IsSkipped()) return;
    for (const char* program : kPrograms)
      if (!fs::exists(program)) GTEST_SKIP() << program << " is missing (scripts/setup.sh installs it)";
    dir_ = fs::temp_directory_path() / (id_ + "-data");
    fs::create_directories(dir_);
    veth_ = std::make_unique<VethPair>(id_);
  }
  void TearDown() override {
    servers_.clear();  // stopped before their namespaces go
    veth_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    CompPolicy::TearDown();
  }

  // comp-ports on `ports`, for this test's cgroup, which this process (and so every program it
  // starts) joins.
  void load_ports(const std::string& ports) {
    load({"comp-ports", "--set", "ports=" + ports});
    cgroup_->enter();
  }

  // `program` in `ns`, started with `bpfplug run` when `preload`.
  Command in(const Netns& ns, const std::vector<std::string>& program, bool preload = true) const {
    Command c;
    c.argv = {"/usr/bin/nsenter", "--net=/run/netns/" + ns.name()};
    if (preload) c.argv.insert(c.argv.end(), {BPFPLUG_CLI, "run", "--log", (dir_ / "preload.log").string(), "--"});
    c.argv.insert(c.argv.end(), program.begin(), program.end());
    c.env = bpfplug_env();
    return c;
  }

  BackgroundProcess& serve(const Netns& ns, const std::vector<std::string>& program, std::uint16_t port,
                           bool preload = true) {
    servers_.push_back(std::make_unique<BackgroundProcess>(in(ns, program, preload), (dir_ / "servers.log").string()));
    EXPECT_TRUE(wait_listening(ns, port)) << program[0] << " does not listen on " << port << "; its log:\n"
                                          << read_file(dir_ / "servers.log");
    return *servers_.back();
  }

  std::int64_t counter(const std::string& name) {
    auto j = cli_json({"status", "comp-ports"});
    return j.contains("counters") && j["counters"].contains(name) ? j["counters"][name].get<std::int64_t>() : -1;
  }

  std::string preload_log() const { return read_file(dir_ / "preload.log"); }

  // Sends `file` with socat from a to a socat server in b that writes it to a file; the
  // received copy, and the IP bytes that crossed into b meanwhile.
  struct Transfer {
    bool intact = false;
    std::uint64_t wire_bytes = 0;
    double seconds = 0;
  };
  Transfer socat_transfer(const fs::path& file, std::uint16_t port, bool client_preload, bool server_preload) {
    fs::path received = dir_ / "received";
    fs::remove(received);
    auto& server = serve(veth_->b,
                         {"/usr/bin/socat", "-u", "TCP-LISTEN:" + std::to_string(port) + ",reuseaddr",
                          "CREATE:" + received.string()},
                         port, server_preload);
    std::uint64_t before = in_octets(veth_->b);
    auto start = std::chrono::steady_clock::now();
    auto client = run(in(veth_->a,
                         {"/usr/bin/socat", "-u", "OPEN:" + file.string(),
                          "TCP:" + std::string(VethPair::b_addr) + ":" + std::to_string(port)},
                         client_preload));
    EXPECT_EQ(client.exit_code, 0) << client.err;
    auto server_exit = server.wait(60);
    Transfer t;
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    t.wire_bytes = in_octets(veth_->b) - before;
    EXPECT_EQ(server_exit.value_or(-1), 0) << read_file(dir_ / "servers.log");
    t.intact = same_contents(file, received);
    return t;
  }

  fs::path dir_;
  std::unique_ptr<VethPair> veth_;
  std::vector<std::unique_ptr<BackgroundProcess>> servers_;
};

// socat both ways of the size range: 1 byte, one chunk exactly, one byte over a chunk, random
// bytes, and 256 MB of text; all byte-exact, and the text takes far fewer bytes on the wire.
TEST_F(DataPath, SocatTransfersAreByteExactFromOneByteToHundredsOfMegabytes) {
  load_ports("7101");
  struct Case {
    std::string name;
    std::size_t size;
    bool text;
  };
  const Case cases[] = {{"1 B", 1, true},
                        {"65535 B", 65535, true},
                        {"65536 B", 65536, true},
                        {"3 MiB random", 3u << 20, false},
                        {"256 MiB text", 256u << 20, true}};
  for (const auto& c : cases) {
    fs::path file = dir_ / "payload";
    c.text ? write_text(file, c.size) : write_random(file, c.size);
    Transfer t = socat_transfer(file, 7101, true, true);
    EXPECT_TRUE(t.intact) << c.name;
    double ratio = static_cast<double>(t.wire_bytes) / static_cast<double>(c.size);
    std::printf("%-14s %10zu bytes sent, %10llu IP bytes on the wire (%.3f), %.2f s\n", c.name.c_str(), c.size,
                static_cast<unsigned long long>(t.wire_bytes), ratio, t.seconds);
    if (c.size >= (1u << 20) && c.text) {
      EXPECT_LT(ratio, 0.4) << c.name << ": compressed text on the wire";
    }
    if (!c.text) {
      EXPECT_GT(ratio, 1.0) << c.name << ": random bytes do not shrink";
    }
  }
  EXPECT_EQ(counter("stat_negotiated"), 2 * 5) << "each connection negotiated, at both ends";
  EXPECT_EQ(preload_log(), "") << "nothing went wrong";
}

// Without compression negotiated (a port outside the set, or one side without bpfplug run) the
// same programs move plain bytes, still byte-exact.
TEST_F(DataPath, WithoutNegotiationTheBytesArePlainAndExact) {
  load_ports("7101");
  fs::path file = dir_ / "payload";
  write_text(file, 8u << 20);
  struct Case {
    const char* name;
    std::uint16_t port;
    bool client, server;
  };
  for (const Case& c : {Case{"port outside the set", 7102, true, true}, Case{"server without bpfplug run", 7101, true, false},
                        Case{"client without bpfplug run", 7101, false, true}}) {
    Transfer t = socat_transfer(file, c.port, c.client, c.server);
    EXPECT_TRUE(t.intact) << c.name;
    EXPECT_GT(t.wire_bytes, 8u << 20) << c.name << ": plain bytes on the wire";
  }
  EXPECT_EQ(counter("stat_negotiated"), 0);
}

// curl fetching from python3's http.server: large and tiny files, compressed; and from a server
// started without bpfplug run, plain.
TEST_F(DataPath, CurlFetchesByteExactFromPythonHttpServer) {
  load_ports("7103");
  fs::path site = dir_ / "site";
  fs::create_directories(site);
  write_text(site / "big.log", 40u << 20);
  write_random(site / "random.bin", 5u << 20);
  write_text(site / "one", 1);
  for (bool server_preload : {true, false}) {
    auto& server = serve(veth_->b,
                         {"/usr/bin/python3", "-m", "http.server", "--bind", VethPair::b_addr, "--directory",
                          site.string(), "7103"},
                         7103, server_preload);
    for (const char* name : {"big.log", "random.bin", "one"}) {
      fs::path got = dir_ / (std::string("got-") + name);
      auto curl = run(in(veth_->a, {"/usr/bin/curl", "-sS", "--fail", "-o", got.string(),
                                    "http://" + std::string(VethPair::b_addr) + ":7103/" + name}));
      EXPECT_EQ(curl.exit_code, 0) << name << ": " << curl.err;
      EXPECT_TRUE(same_contents(site / name, got)) << name << (server_preload ? " (compressed)" : " (plain)");
    }
    server.stop();
    servers_.clear();
  }
  EXPECT_EQ(counter("stat_negotiated"), 2 * 3) << "three fetches negotiated, at both ends; none without the server";
  EXPECT_EQ(preload_log(), "");
}

// redis-server (epoll) with redis-benchmark's concurrent clients, and a 20 MB value set and read
// back with redis-cli.
TEST_F(DataPath, RedisServesBenchmarkAndLargeValuesCompressed) {
  load_ports("7104");
  // redis-tools' binary is the server too when called redis-server (what the redis-server
  // package adds, with a system service the tests have no use for).
  fs::create_symlink("/usr/bin/redis-check-rdb", dir_ / "redis-server");
  serve(veth_->b,
        {(dir_ / "redis-server").string(), "--bind", VethPair::b_addr, "--port", "7104", "--save", "", "--appendonly", "no",
         "--protected-mode", "no", "--dir", dir_.string()},
        7104);
  auto bench = run(in(veth_->a, {"/usr/bin/redis-benchmark", "-h", VethPair::b_addr, "-p", "7104", "-n", "5000",
                                 "-c", "20", "-d", "2000", "-t", "set,get,lpush,lrange_100", "-q"}));
  EXPECT_EQ(bench.exit_code, 0) << bench.err;
  std::printf("%s", bench.out.c_str());
  for (const char* test : {"SET", "GET", "LPUSH", "LRANGE_100"})
    EXPECT_NE(bench.out.find(test), std::string::npos) << test << " did not complete:\n" << bench.out << bench.err;

  fs::path value = dir_ / "value";
  write_text(value, 20u << 20);
  auto set = run(in(veth_->a, {"/bin/sh", "-c",
                               "/usr/bin/redis-cli -h " + std::string(VethPair::b_addr) + " -p 7104 -x SET big < " +
                                   value.string()}));
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("OK"), std::string::npos) << set.out;
  fs::path got = dir_ / "got";
  auto get = run(in(veth_->a, {"/bin/sh", "-c",
                               "/usr/bin/redis-cli -h " + std::string(VethPair::b_addr) +
                                   " -p 7104 --raw GET big | head -c " + std::to_string(20u << 20) + " > " +
                                   got.string()}));
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_TRUE(same_contents(value, got));
  EXPECT_GE(counter("stat_negotiated"), 2 * 22) << "every client connection (20 + 2) negotiated";
  EXPECT_EQ(preload_log(), "");
}

// An edge-triggered epoll server that reads in 997-byte pieces: decoded bytes wait in the
// library between reads, and the program reads them until EAGAIN without another edge.
TEST_F(DataPath, EdgeTriggeredEpollServerEchoesEverything) {
  load_ports("7105");
  serve(veth_->b, {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/et_echo_server.py", VethPair::b_addr, "7105"}, 7105);
  for (std::size_t size : {std::size_t{1}, std::size_t{300000}, std::size_t{30u << 20}}) {
    fs::path file = dir_ / "payload", echoed = dir_ / "echoed";
    write_text(file, size);
    fs::remove(echoed);
    auto client = run(in(veth_->a, {"/usr/bin/socat", "-t", "60", "-b", "65536",
                                    "OPEN:" + file.string() + "!!CREATE:" + echoed.string(),
                                    "TCP:" + std::string(VethPair::b_addr) + ":7105"}));
    EXPECT_EQ(client.exit_code, 0) << client.err;
    EXPECT_TRUE(same_contents(file, echoed)) << size << " bytes echoed";
  }
  EXPECT_EQ(counter("stat_negotiated"), 2 * 3);
  EXPECT_EQ(preload_log(), "");
}

// The same server on poll(2), select(2) and EPOLLONESHOT epoll (re-armed after each piece),
// reading one 997-byte piece per report: what the library has decoded and the program not yet
// read must be reported readable again while the kernel socket holds nothing. The client
// keeps its side open until the whole echo is back, so no end of stream makes the socket
// readable in the library's stead.
TEST_F(DataPath, PollSelectAndOneShotServersAreToldOfDecodedBytes) {
  load_ports("7116,7117,7118");
  const std::vector<std::pair<std::string, std::uint16_t>> servers = {{"poll", 7116}, {"select", 7117}, {"oneshot", 7118}};
  for (const auto& [mode, port] : servers)
    serve(veth_->b,
          {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/et_echo_server.py", VethPair::b_addr, std::to_string(port), "997", mode},
          port);
  for (const auto& [mode, port] : servers)
    for (const char* size : {"1", "300000", "5242880"}) {
      auto client = run(in(veth_->a, {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/echo_client.py", VethPair::b_addr,
                                      std::to_string(port), size}));
      EXPECT_EQ(client.exit_code, 0) << mode << ": " << client.out << client.err;
      EXPECT_THAT(client.out, ::testing::HasSubstr("intact")) << mode << ", " << size << " bytes";
    }
  EXPECT_EQ(counter("stat_negotiated"), 2 * 9);
  EXPECT_EQ(preload_log(), "");
}

// Files sent with sendfile(2) and splice(2) (python's socket.sendfile and os.splice) go out
// compressed, byte-exact.
TEST_F(DataPath, SendfileAndSpliceAreCompressed) {
  load_ports("7110");
  fs::path file = dir_ / "payload", received = dir_ / "received";
  write_text(file, 12u << 20);
  for (const char* how : {"sendfile", "splice"}) {
    fs::remove(received);
    auto& server = serve(veth_->b,
                         {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/file_server.py", VethPair::b_addr, "7110",
                          file.string(), how},
                         7110);
    std::uint64_t before = in_octets(veth_->a);
    auto client = run(in(veth_->a, {"/usr/bin/socat", "-u", "TCP:" + std::string(VethPair::b_addr) + ":7110",
                                    "CREATE:" + received.string()}));
    EXPECT_EQ(client.exit_code, 0) << client.err;
    EXPECT_EQ(server.wait(30).value_or(-1), 0) << read_file(dir_ / "servers.log");
    EXPECT_TRUE(same_contents(file, received)) << how;
    EXPECT_LT(in_octets(veth_->a) - before, fs::file_size(file) / 3) << how << ": compressed on the wire";
    servers_.clear();
  }
  EXPECT_THAT(read_file(dir_ / "servers.log"), ::testing::HasSubstr("sendfile: 12582912 of 12582912 bytes"));
  EXPECT_THAT(read_file(dir_ / "servers.log"), ::testing::HasSubstr("splice: 12582912 of 12582912 bytes"));
  EXPECT_EQ(counter("stat_negotiated"), 2 * 2);
  EXPECT_EQ(preload_log(), "");
}

// socat accepting with `fork` and exec'ing cat on the connection (`nofork`): each connection
// goes through fork() and then exec() of a program that only then starts the stream, and cat
// echoes byte-exact to several clients in turn.
TEST_F(DataPath, ForkedAndExecedProgramsCarryOnTheConnection) {
  load_ports("7111");
  serve(veth_->b, {"/usr/bin/socat", "TCP-LISTEN:7111,reuseaddr,fork", "EXEC:/bin/cat,nofork"}, 7111);
  for (std::size_t size : {std::size_t{100}, std::size_t{5u << 20}, std::size_t{70000}}) {
    fs::path file = dir_ / "payload", echoed = dir_ / "echoed";
    write_text(file, size);
    fs::remove(echoed);
    auto client = run(in(veth_->a, {"/usr/bin/socat", "-t", "30", "OPEN:" + file.string() + "!!CREATE:" + echoed.string(),
                                    "TCP:" + std::string(VethPair::b_addr) + ":7111"}));
    EXPECT_EQ(client.exit_code, 0) << client.err;
    EXPECT_TRUE(same_contents(file, echoed)) << size << " bytes through fork + exec";
  }
  EXPECT_EQ(counter("stat_negotiated"), 2 * 3);
  EXPECT_EQ(preload_log(), "");
}

// A connection moved to another descriptor number (dup2, close the original) while a new
// socket takes the old number: the stream follows the connection, not the number.
TEST_F(DataPath, TheStreamFollowsTheConnectionAcrossDescriptorNumbers) {
  load_ports("7112");
  serve(veth_->b, {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/et_echo_server.py", VethPair::b_addr, "7112"}, 7112);
  auto client = run(in(veth_->a, {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/dup_client.py", VethPair::b_addr, "7112"}));
  std::printf("%s", client.out.c_str());
  EXPECT_EQ(client.exit_code, 0) << client.err;
  EXPECT_THAT(client.out, ::testing::HasSubstr("intact"));
  EXPECT_EQ(counter("stat_negotiated"), 2);
  EXPECT_EQ(preload_log(), "");
}

// A server of the test's own negotiates compression (it marks its listener ready), then sends
// what no tcp_comp peer would: bytes that are no zstd stream, or a valid stream cut inside a
// block. The client's reads fail with EBADMSG and ECONNABORTED respectively, with a log line,
// no garbage reaches it (only whole blocks the peer really sent), and its other connection
// echoes 1 MiB intact.
TEST_F(DataPath, BrokenStreamsEndOnlyTheirOwnConnection) {
  load_ports("7106,7107,7108");
  serve(veth_->b, {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/et_echo_server.py", VethPair::b_addr, "7106"}, 7106);

  std::string garbage(4096, '\x5a');
  datapath::StreamEncoder encoder;
  std::string text(200000, 'x');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + (i * 7919 % 26));
  std::vector<std::uint8_t> stream(datapath::StreamEncoder::max_output(datapath::kMaxChunk));
  stream.resize(encoder.compress(
      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), datapath::kMaxChunk), stream));
  std::string cut(reinterpret_cast<const char*>(stream.data()), stream.size() / 2);

  CompContract contract(paths_.pin_root);
  std::vector<std::thread> servers;
  std::vector<UniqueFd> listeners;
  for (auto [port, bytes] : {std::pair<std::uint16_t, std::string>{7107, garbage}, {7108, cut}}) {
    UniqueFd listener;
    veth_->b.run_inside([&] {
      listener = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int one = 1;
      setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      contract.mark_ready(listener.get());
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      inet_pton(AF_INET, VethPair::b_addr, &addr.sin_addr);
      if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) || listen(listener.get(), 4))
        listener = UniqueFd();
    });
    ASSERT_TRUE(listener) << "listen on " << port;
    servers.emplace_back([fd = listener.get(), bytes] {
      UniqueFd conn(accept(fd, nullptr, nullptr));
      if (conn) (void)!write(conn.get(), bytes.data(), bytes.size());  // then closed: a FIN after it
    });
    listeners.push_back(std::move(listener));
  }
  auto client = run(in(veth_->a, {"/usr/bin/python3", BPFPLUG_TEST_TOOLS "/stream_error_client.py", VethPair::b_addr,
                                  "7106", "7107", "7108"}));
  for (auto& t : servers) t.join();
  std::printf("%s", client.out.c_str());
  EXPECT_EQ(client.exit_code, 0) << client.err;
  EXPECT_NE(client.out.find("bad 7107: EBADMSG after 0 bytes"), std::string::npos) << client.out;
  // The whole blocks before the cut are the peer's real bytes: they arrive, then the error.
  EXPECT_NE(client.out.find("bad 7108: ECONNABORTED after "), std::string::npos) << client.out;
  EXPECT_NE(client.out.find("good: intact (1048576 bytes)"), std::string::npos) << client.out;
  std::string log = preload_log();
  std::printf("preload log:\n%s", log.c_str());
  EXPECT_NE(log.find("198.18.0.2:7107"), std::string::npos) << log;
  EXPECT_NE(log.find("the program gets EBADMSG"), std::string::npos) << log;
  EXPECT_NE(log.find("198.18.0.2:7108"), std::string::npos) << log;
  EXPECT_NE(log.find("the program gets ECONNABORTED"), std::string::npos) << log;
  EXPECT_EQ(log.find("7106"), std::string::npos) << "the good connection logged nothing";
}

// The payload of a compressed connection, as captured on the wire and put back in sequence
// order, is a stream the reference zstd tool decodes to the bytes sent: what an openEuler peer
// with kernel tcp_comp reads.
TEST_F(DataPath, CapturedPayloadDecodesWithTheZstdTool) {
  load_ports("7109");
  fs::path file = dir_ / "payload";
  write_text(file, 3u << 20);
  PacketCapture capture(veth_->b, "veth0");
  Transfer t = socat_transfer(file, 7109, true, true);
  ASSERT_TRUE(t.intact);

  std::map<std::uint32_t, std::vector<std::uint8_t>> by_seq;  // client -> server payload
  for (auto& s : capture.drain())
    if (s.dest_port == 7109 && !s.data.empty()) by_seq[s.seq] = std::move(s.data);
  ASSERT_FALSE(by_seq.empty());
  std::string wire;
  std::uint32_t next = by_seq.begin()->first;
  for (const auto& [seq, data] : by_seq) {  // no wrap: one short connection from a random ISN
    if (static_cast<std::int32_t>(seq + data.size() - next) <= 0) continue;  // a retransmitted copy
    ASSERT_EQ(seq, next) << "a gap in the capture at " << seq;
    wire.append(reinterpret_cast<const char*>(data.data()), data.size());
    next = seq + static_cast<std::uint32_t>(data.size());
  }
  fs::path captured = dir_ / "captured.zst", decoded = dir_ / "decoded";
  std::ofstream(captured, std::ios::binary) << wire;
  auto zstd = run_here({"/bin/sh", "-c", "/usr/bin/zstd -d -c < " + captured.string() + " > " + decoded.string()});
  std::printf("%zu payload bytes captured; zstd -d: exit %d, %s", wire.size(), zstd.exit_code, zstd.err.c_str());
  // The frame never ends (tcp_comp's design), so zstd decodes everything and then reports that.
  EXPECT_NE(zstd.err.find("premature end"), std::string::npos) << zstd.err;
  EXPECT_TRUE(same_contents(file, decoded)) << "zstd decoded " << fs::file_size(decoded) << " bytes";
  EXPECT_LT(wire.size(), fs::file_size(file) / 3);
}

// What only the real host can refuse: a program that is not there, after the maps were opened.
TEST_F(DataPath, RunOfAMissingProgramSaysWhatToCheck) {
  load_ports("7113");
  auto r = cli({"run", "--", "no-such-program-bpfplug"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("can't run no-such-program-bpfplug: No such file or directory"));
  EXPECT_THAT(r.err, ::testing::HasSubstr("check the program's name and PATH"));
}

}  // namespace
}  // namespace bpfplug::test
