// The bpfplug::Error a call throws, for tests that inspect its code, message and hint.
#pragma once

#include <gtest/gtest.h>

#include "bpfplug/error.hpp"

namespace bpfplug::test {

// Runs `fn`, which must throw bpfplug::Error; returns it for inspection.
template <typename Fn>
Error error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected bpfplug::Error";
  return Error(Exit::ok, "");
}

}  // namespace bpfplug::test
