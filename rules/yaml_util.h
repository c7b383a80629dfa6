// Strict reading of YAML configuration with yaml-cpp: every value keeps the 1-based line and
// column it came from, unknown keys are errors at the key's own position, and type errors name
// the field. Shared by the rule file loader and the alertd.yml loader.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/clock.h"
#include "common/result.h"

namespace alertd::yaml {

// 1-based line and column; {0, 0} when unknown.
struct Position {
  int line = 0;
  int column = 0;
};

Position PositionOf(const YAML::Node& node);

// The lines of a YAML text without their terminators, split once so that positions inside
// values can be mapped back to the text cheaply. The text must outlive this object.
class SourceLines {
 public:
  explicit SourceLines(std::string_view text);

  const std::vector<std::string_view>& lines() const { return lines_; }

 private:
  std::vector<std::string_view> lines_;
};

// Position of an empty (null) value such as a bare `-` list item: yaml-cpp marks it at the
// next token, so this returns the last character before that token, skipping blank lines and
// comments. `source` is the text `node` was parsed from. Other nodes: PositionOf(node).
Position PositionOfEmpty(const SourceLines& source, const YAML::Node& node);

// Receives each problem found, with the position it refers to.
using ErrorSink = std::function<void(Position, std::string message)>;

// Parses the first document of `text`; an empty text yields a null node. A syntax error is
// returned as kInvalidArgument with the position yaml-cpp reports.
Result<YAML::Node> ParseDocument(const std::string& text);

// Returns "a mapping", "a list", "a string" or "null", for messages like "got a list".
std::string KindName(const YAML::Node& node);

// One key of a mapping with its value.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;

  Position key_position() const { return PositionOf(key_node); }

  // The value's position, or the key's when the value is null: yaml-cpp marks an empty value
  // at the token after it, which is usually on the next line.
  Position value_position() const;
};

// The keys a mapping may have.
struct Schema {
  std::string_view what;  // "rule", "scrape config", ...: used in messages
  std::vector<std::string_view> fields;
  // Valid keys in Prometheus or Alertmanager that alertd does not implement: they are
  // rejected with "not supported yet" instead of "unknown field".
  std::vector<std::string_view> unsupported;
  // Key suffixes treated like `unsupported`, e.g. "_sd_configs".
  std::vector<std::string_view> unsupported_suffixes;
};

// The accepted entries of one mapping, in file order.
class Fields {
 public:
  // Returns the entry for `key`, or nullptr when the key is absent.
  const Entry* Find(std::string_view key) const;

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  friend Fields ReadMapping(const YAML::Node&, const Schema&, const ErrorSink&);
  std::vector<Entry> entries_;
};

// Reads `node` as a mapping with the keys of `schema`. Reports at the offending key: unknown
// keys (suggesting a close known key), unsupported keys, duplicate keys and non-string keys.
// Reports a node that is not a mapping and returns no entries; a null node is an empty
// mapping.
Fields ReadMapping(const YAML::Node& node, const Schema& schema, const ErrorSink& errors);

// Scalar readers. Each returns nullopt for a null value and reports a value of the wrong kind,
// naming the field by its key. A reported value also returns nullopt.
std::optional<std::string> ReadString(const Entry& entry, const ErrorSink& errors);
std::optional<bool> ReadBool(const Entry& entry, const ErrorSink& errors);
std::optional<int64_t> ReadInt(const Entry& entry, const ErrorSink& errors);
// Prometheus duration syntax (common/duration.h).
std::optional<Duration> ReadDuration(const Entry& entry, const ErrorSink& errors);
// A list of strings; entries that are not strings are reported and skipped.
std::optional<std::vector<std::string>> ReadStringList(const Entry& entry, const ErrorSink& errors);

// One element of a string list or one entry of a string-to-string mapping, with positions.
struct StringItem {
  std::string key;  // empty for list items
  std::string value;
  Position key_position;
  Position value_position;
  YAML::Node value_node;  // a null node for a null value
};

// A list of strings, each with its position.
std::vector<StringItem> ReadStringItems(const Entry& entry, const ErrorSink& errors);
// A mapping from string to string in file order, such as labels or annotations. Duplicate keys
// and values that are not strings are reported and skipped.
std::vector<StringItem> ReadStringMap(const Entry& entry, const ErrorSink& errors);

// Maps character offsets in a scalar's value back to positions in the source text, so errors
// found inside a value (a PromQL expression, a template) point into the file.
// Exact for plain and quoted scalars on one line and for literal block scalars (`|`); for
// folded (`>`) and multi-line plain or quoted scalars, each line break is taken as one
// character, which is exact unless the value has blank lines or escape sequences.
class ScalarLocator {
 public:
  // `source` holds the text `node` was parsed from.
  ScalarLocator(const SourceLines& source, const YAML::Node& node);

  // Position of the value's first character.
  Position Start() const { return Locate(0); }

  // Position of byte `offset` of the value; offsets past the end map to the end of its text.
  Position Locate(size_t offset) const;
  // Position of the 1-based `line` and `column` of the value; line 0 means unknown.
  Position Locate(int line, int column) const;

 private:
  enum class Style { kPlain, kSingleQuoted, kDoubleQuoted, kLiteral, kFolded };

  struct Segment {
    int line = 0;       // 1-based source line
    int column = 0;     // 1-based column of the segment's first character
    size_t length = 0;  // bytes of value text on this line
    bool blank = false;
  };

  void SplitBlock(const std::vector<std::string_view>& lines, size_t header_line);
  void SplitFlow(const std::vector<std::string_view>& lines, size_t line, size_t column);

  std::string value_;
  Style style_ = Style::kPlain;
  Position fallback_;
  std::vector<Segment> segments_;
};

// Reads a whole file. The error message is the system's reason, e.g. "No such file or
// directory", without the path.
Result<std::string> ReadTextFile(const std::string& path);

// Whether `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace alertd::yaml
