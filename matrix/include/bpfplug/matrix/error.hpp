// The matrix runner's one error type: a step that cannot go on (a file missing, qemu absent,
// a corrupt result). Thrown by the library, caught in bpfplug-matrix's main.
#pragma once

#include <stdexcept>
#include <string>

namespace bpfplug::matrix {

class MatrixError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bpfplug::matrix
