# Every dependency comes from a Debian package installed by scripts/setup.sh.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf>=1.4)
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
pkg_check_modules(LIBZSTD REQUIRED IMPORTED_TARGET libzstd)  # comp-cost's calibration (libzstd-dev)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)

find_program(BPF_CLANG NAMES clang-19 clang REQUIRED
             DOC "clang that targets BPF (scripts/setup.sh installs clang-19)")
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED
             DOC "bpftool >= 7.5 for skeletons (scripts/setup.sh installs it from bookworm-backports)")
