#include "engine/query_source.h"

#include "engine/promql/parser.h"

namespace alertd {

Result<promql::Value> LocalQuerySource::Query(const std::string& expr, TimePoint t) {
  auto parsed = promql::ParseExpr(expr);
  if (!parsed.ok()) {
    return parsed.error();
  }
  return engine_->Instant(**parsed, *storage_, ToMillis(t));
}

Result<promql::Value> LocalQuerySource::QueryRule(const promql::Expr& parsed,
                                                  const std::string& /*text*/,
                                                  TimePoint t) {
  return engine_->Instant(parsed, *storage_, ToMillis(t));
}

}  // namespace alertd
