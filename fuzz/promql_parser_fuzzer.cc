// Parses arbitrary PromQL text. An expression that parses must print to text that parses again
// and prints the same, because rule files and the API show the printed form.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/promql/parser.h"
#include "engine/promql/printer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view query(reinterpret_cast<const char*>(data), size);
  auto expr = alertd::promql::ParseExpr(query);
  if (!expr.ok()) {
    return 0;
  }
  static_cast<void>(alertd::promql::MaxLookbackMs(**expr, 300000));
  std::string printed = alertd::promql::Format(**expr);
  auto reparsed = alertd::promql::ParseExpr(printed);
  if (!reparsed.ok()) {
    std::fprintf(stderr,
                 "printed form does not parse: %s\nerror: %s\n",
                 printed.c_str(),
                 reparsed.error().message().c_str());
    std::abort();
  }
  std::string reprinted = alertd::promql::Format(**reparsed);
  if (reprinted != printed) {
    std::fprintf(stderr,
                 "printing is not stable:\n  first:  %s\n  second: %s\n",
                 printed.c_str(),
                 reprinted.c_str());
    std::abort();
  }
  return 0;
}
