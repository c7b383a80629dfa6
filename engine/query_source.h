// Query source seam: where rules get their instant-query results. The local source evaluates
// with alertd's own PromQL engine over the in-memory sample store; the remote one sends the
// expression to a Prometheus-compatible /api/v1/query (engine/remote_query_source.h).
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "engine/promql/ast.h"
#include "engine/promql/engine.h"
#include "engine/promql/value.h"
#include "storage/sample_store.h"

namespace alertd {

class QuerySource {
 public:
  virtual ~QuerySource() = default;

  // Evaluates the PromQL expression `expr` as an instant query at `t`. Thread-safe.
  virtual Result<promql::Value> Query(const std::string& expr, TimePoint t) = 0;

  // Evaluates a rule's expression, already parsed as `parsed` from `text`. The default sends
  // `text` to Query; the local source evaluates `parsed` without parsing again.
  virtual Result<promql::Value> QueryRule(const promql::Expr& parsed,
                                          const std::string& text,
                                          TimePoint t) {
    (void)parsed;
    return Query(text, t);
  }
};

// Evaluates with `engine` over `storage`; both must outlive the source.
class LocalQuerySource final : public QuerySource {
 public:
  LocalQuerySource(const promql::Engine* engine, const Queryable* storage)
      : engine_(engine), storage_(storage) {}

  Result<promql::Value> Query(const std::string& expr, TimePoint t) override;
  Result<promql::Value> QueryRule(const promql::Expr& parsed,
                                  const std::string& text,
                                  TimePoint t) override;

 private:
  const promql::Engine* engine_;
  const Queryable* storage_;
};

}  // namespace alertd
