#include "cc_bench_plot.hpp"


#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bpfplug/error.hpp"
#include "bpfplug/testbed/flow_metrics.hpp"
#include "bpfplug/testbed/shell.hpp"

namespace fs = std::filesystem;

namespace bpfplug::bench {
namespace {

// gnuplot strings are single-quoted; a quote inside is doubled.
std::string gp_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// A scratch directory for the data files and the script, removed when done.
struct ScratchDir {
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "bpfplug-plot-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw Error(Exit::failure, "can't make a scratch directory for the plot: " + errno_text(errno));
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  if (!out) throw Error(Exit::failure, "can't write " + file.string());
}

// The index of the first run of `algorithm` in the report, or -1.
int first_trial(const BenchReport& r, const std::string& algorithm) {
  for (std::size_t i = 0; i < r.trials.size(); ++i)
    if (r.trials[i].algorithm == algorithm) return static_cast<int>(i);
  return -1;
}

}  // namespace

void require_gnuplot() {
  if (testbed::sh("command -v gnuplot >/dev/null 2>&1") != 0)
    throw Error(Exit::unsupported, "--plot needs gnuplot, which is not installed",
                "install it (apt-get install gnuplot-nox; scripts/setup.sh does) or leave out --plot");
}

void plot_report(const BenchReport& r, const std::string& file) {
  ScratchDir dir;
  const auto& algos = r.config.algorithms;
  std::ostringstream scatter, cwnd, rtt, rate;
  for (std::size_t a = 0; a < algos.size(); ++a) {
    const std::string color = "lc " + std::to_string(a + 1);
    const std::string name = algos[a];
    // Every run: (p95 RTT, goodput); the median as a larger ring.
    std::ostringstream points;
    for (const auto& t : r.trials)
      if (t.algorithm == name) points << t.rtt_p95_ms << " " << t.goodput_bps / 1e6 << "\n";
    fs::path pf = dir.path / ("runs" + std::to_string(a) + ".dat");
    write_file(pf, points.str());
    for (const auto& s : r.summaries)
      if (s.algorithm == name) {
        fs::path mf = dir.path / ("median" + std::to_string(a) + ".dat");
        write_file(mf, std::to_string(s.rtt_p95_ms) + " " + std::to_string(s.goodput_bps / 1e6) + "\n");
        scatter << (scatter.tellp() ? ", " : "") << gp_quote(pf.string()) << " using 1:2 with points pt 7 ps 1.2 " << color
                << " title " << gp_quote(name) << ", " << gp_quote(mf.string()) << " using 1:2 with points pt 6 ps 3.5 "
                << color << " notitle";
      }
    // Time series of the first run, every flow (dash type by flow).
    int i = first_trial(r, name);
    if (i < 0) continue;
    const auto& flows = r.traffic.at(static_cast<std::size_t>(i)).bulk;
    for (std::size_t f = 0; f < flows.size(); ++f) {
      std::ostringstream ts;
      for (const auto& s : flows[f].samples) ts << s.t << " " << s.cwnd << " " << s.rtt_us / 1000.0 << "\n";
      fs::path tf = dir.path / ("ts" + std::to_string(a) + "_" + std::to_string(f) + ".dat");
      write_file(tf, ts.str());
      auto bins = static_cast<std::size_t>(r.config.duration_s / kConvergenceBinSeconds);
      auto rates = testbed::binned_rate_bps(flows[f].samples, 0, kConvergenceBinSeconds, bins);
      std::ostringstream rs;
      for (std::size_t k = 0; k < rates.size(); ++k)
        if ((k + 1) * kConvergenceBinSeconds > flows[f].start_s) rs << (k + 0.5) * kConvergenceBinSeconds << " " << rates[k] / 1e6 << "\n";
      fs::path rf = dir.path / ("rate" + std::to_string(a) + "_" + std::to_string(f) + ".dat");
      write_file(rf, rs.str());
      std::string title = f == 0 ? "title " + gp_quote(name) : "notitle";
      std::string style = " with lines lw 1.5 dt " + std::to_string(f % 5 + 1) + " " + color + " " + title;
      cwnd << (cwnd.tellp() ? ", " : "") << gp_quote(tf.string()) << " using 1:2" << style;
      rtt << (rtt.tellp() ? ", " : "") << gp_quote(tf.string()) << " using 1:3" << style;
      rate << (rate.tellp() ? ", " : "") << gp_quote(rf.string()) << " using 1:2" << style;
    }
  }
  std::string ext = fs::path(file).extension().string();
  std::ostringstream gp;
  double xmax = r.config.rtt.count() / 1000.0;
  for (const auto& t : r.trials) xmax = std::max(xmax, t.rtt_p95_ms);
  xmax = xmax > 0 ? xmax * 1.15 : 1;
  // noenhanced: algorithm names are plain text (bpf_cubic, not bpf with a subscript).
  gp << (ext == ".svg" ? "set terminal svg size 1400,1000 dynamic noenhanced font 'sans,11' background rgb 'white'\n"
                       : "set terminal pngcairo size 1400,1000 noenhanced font 'sans,10'\n")
     << "set output " << gp_quote(file) << "\n"
     << "set grid\nset key top right\nset multiplot layout 2,2 title " << gp_quote("bpfplug bench: " + describe(r.config))
     << "\n"
     << "set title 'Goodput vs 95th-percentile RTT (dot: one run, ring: median; better is up and right)'\n"
     << "set xlabel '95th-percentile RTT (ms, reversed)'\nset ylabel 'goodput (Mbit/s)'\n"
     << "set xrange [" << xmax << ":0]\nset yrange [0:" << r.config.rate_bps / 1e6 * 1.05 << "]\n";
  if (r.config.rtt.count() > 0)
    gp << "set arrow 1 from " << r.config.rtt.count() / 1000.0 << ", graph 0 to " << r.config.rtt.count() / 1000.0
       << ", graph 1 nohead dt 2 lc rgb 'gray40'\nset label 1 'propagation RTT' at " << r.config.rtt.count() / 1000.0
       << ", graph 0.05 left offset 0.5,0 textcolor rgb 'gray40'\n";
  gp << "plot " << scatter.str() << "\n"
     << "unset arrow 1\nunset label 1\nset xrange [0:" << r.config.duration_s << "]\nset yrange [0:*]\n"
     << "set xlabel 'time (s)'\n"
     << "set title 'Congestion window, first run (dash: flow)'\nset ylabel 'cwnd (segments)'\nplot " << cwnd.str() << "\n"
     << "set title 'Smoothed RTT, first run'\nset ylabel 'srtt (ms)'\nplot " << rtt.str() << "\n"
     << "set title 'Delivery rate per flow, first run (" << kConvergenceBinSeconds << " s bins)'\n"
     << "set ylabel 'Mbit/s'\nplot " << rate.str() << "\n"
     << "unset multiplot\n";
  fs::path script = dir.path / "bench.gp";
  write_file(script, gp.str());
  fs::path err = dir.path / "gnuplot.err";
  if (testbed::sh("gnuplot " + testbed::shell_quote(script.string()) + " 2>" + testbed::shell_quote(err.string())) != 0) {
    std::ifstream in(err);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw Error(Exit::failure, "gnuplot could not draw " + file + ": " + text, "check that the directory exists and is writable");
  }
}

}  // namespace bpfplug::bench
