#include "rules/yaml_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "common/duration.h"

namespace alertd::yaml {
namespace {

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// Levenshtein distance, bounded by the short field names it is used on.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string JoinFields(const std::vector<std::string_view>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      out += ", ";
    }
    out += fields[i];
  }
  return out;
}

bool IsUnsupported(std::string_view key, const Schema& schema) {
  if (std::find(schema.unsupported.begin(), schema.unsupported.end(), key) !=
      schema.unsupported.end()) {
    return true;
  }
  return std::any_of(schema.unsupported_suffixes.begin(),
                     schema.unsupported_suffixes.end(),
                     [&](std::string_view suffix) { return key.ends_with(suffix); });
}

std::string UnknownFieldMessage(std::string_view key, const Schema& schema) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view field : schema.fields) {
    size_t distance = EditDistance(key, field);
    if (distance < best_distance) {
      best_distance = distance;
      best = field;
    }
  }
  std::string message = "unknown field " + Quote(key) + " in " + std::string(schema.what);
  // A suggestion is only useful for a typo: at most two edits, and fewer than the key's length.
  if (!best.empty() && best_distance <= 2 && best_distance < key.size()) {
    return message + "; did you mean " + Quote(best) + "?";
  }
  return message + "; valid fields are: " + JoinFields(schema.fields);
}

// Splits `source` into lines without their line terminators.
std::vector<std::string_view> SplitLines(std::string_view source) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= source.size()) {
    size_t end = source.find('\n', start);
    if (end == std::string_view::npos) {
      end = source.size();
    }
    std::string_view line = source.substr(start, end - start);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

size_t LeadingSpaces(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') {
    ++n;
  }
  return n;
}

}  // namespace

Position PositionOf(const YAML::Node& node) {
  if (!node.IsDefined()) {
    return {};
  }
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

SourceLines::SourceLines(std::string_view text) : lines_(SplitLines(text)) {}

Position PositionOfEmpty(const SourceLines& source, const YAML::Node& node) {
  Position position = PositionOf(node);
  if (!node.IsNull() || position.line == 0) {
    return position;
  }
  const std::vector<std::string_view>& lines = source.lines();
  auto line = static_cast<size_t>(position.line - 1);
  size_t end = static_cast<size_t>(position.column - 1);
  while (line < lines.size()) {
    std::string_view text = lines[line].substr(0, std::min(end, lines[line].size()));
    // Drops a comment: a '#' at the start or after a space. Quoted text cannot come before an
    // empty value on its line, so a '#' there is never inside a string.
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
        text = text.substr(0, i);
        break;
      }
    }
    size_t last = text.find_last_not_of(" \t");
    if (last != std::string_view::npos) {
      return {static_cast<int>(line) + 1, static_cast<int>(last) + 1};
    }
    if (line == 0) {
      break;
    }
    --line;
    end = std::string_view::npos;
  }
  return position;
}

Position Entry::value_position() const {
  if (!value.IsDefined() || value.IsNull()) {
    return key_position();
  }
  return PositionOf(value);
}

Result<YAML::Node> ParseDocument(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    int column = e.mark.is_null() ? 0 : e.mark.column + 1;
    return Error::Invalid("invalid YAML: " + e.msg, line, column);
  }
}

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "null";
}

const Entry* Fields::Find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) {
      return &entry;
    }
  }
  return nullptr;
}

Fields ReadMapping(const YAML::Node& node, const Schema& schema, const ErrorSink& errors) {
  Fields fields;
  if (node.IsNull()) {
    return fields;
  }
  if (!node.IsMap()) {
    errors(PositionOf(node),
           std::string(schema.what) + " must be a mapping, got " + KindName(node));
    return fields;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    YAML::Node key_node = it->first;
    if (!key_node.IsScalar()) {
      errors(PositionOf(key_node),
             "keys in " + std::string(schema.what) + " must be strings, got " + KindName(key_node));
      continue;
    }
    std::string key = key_node.Scalar();
    if (const Entry* previous = fields.Find(key)) {
      errors(PositionOf(key_node),
             "duplicate field " + Quote(key) + " in " + std::string(schema.what) +
                 "; it is already set at line " + std::to_string(previous->key_position().line));
      continue;
    }
    bool known = std::find(schema.fields.begin(), schema.fields.end(), key) != schema.fields.end();
    if (!known) {
      if (IsUnsupported(key, schema)) {
        errors(PositionOf(key_node),
               "field " + Quote(key) + " in " + std::string(schema.what) +
                   " is not supported yet by alertd; remove it");
      } else {
        errors(PositionOf(key_node), UnknownFieldMessage(key, schema));
      }
      continue;
    }
    fields.entries_.push_back(Entry{std::move(key), key_node, it->second});
  }
  return fields;
}

std::optional<std::string> ReadString(const Entry& entry, const ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return std::nullopt;
  }
  if (!entry.value.IsScalar()) {
    errors(entry.value_position(), entry.key + " must be a string, got " + KindName(entry.value));
    return std::nullopt;
  }
  return entry.value.Scalar();
}

std::optional<bool> ReadBool(const Entry& entry, const ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return std::nullopt;
  }
  if (entry.value.IsScalar()) {
    const std::string& text = entry.value.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") {
      return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      return false;
    }
    errors(entry.value_position(),
           "invalid " + entry.key + " " + Quote(text) + ": use true or false");
    return std::nullopt;
  }
  errors(entry.value_position(),
         entry.key + " must be true or false, got " + KindName(entry.value));
  return std::nullopt;
}

std::optional<int64_t> ReadInt(const Entry& entry, const ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return std::nullopt;
  }
  if (!entry.value.IsScalar()) {
    errors(entry.value_position(), entry.key + " must be an integer, got " + KindName(entry.value));
    return std::nullopt;
  }
  const std::string& text = entry.value.Scalar();
  std::string_view digits = text;
  if (digits.starts_with('+')) {
    digits.remove_prefix(1);
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    errors(entry.value_position(),
           "invalid " + entry.key + " " + Quote(text) + ": expected an integer");
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> ReadDuration(const Entry& entry, const ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return std::nullopt;
  }
  if (!entry.value.IsScalar()) {
    errors(entry.value_position(),
           entry.key + " must be a duration such as 30s, got " + KindName(entry.value));
    return std::nullopt;
  }
  const std::string& text = entry.value.Scalar();
  Result<Duration> duration = ParseDuration(text);
  if (duration.ok()) {
    return *duration;
  }
  // ParseDuration names the value; the field name is added right after it.
  std::string message = duration.error().message();
  std::string prefix = "invalid duration " + Quote(text);
  if (message.starts_with(prefix)) {
    message.insert(prefix.size(), " in " + entry.key);
  } else {
    message = "invalid " + entry.key + ": " + message;
  }
  errors(entry.value_position(), message);
  return std::nullopt;
}

std::vector<StringItem> ReadStringItems(const Entry& entry, const ErrorSink& errors) {
  std::vector<StringItem> items;
  if (entry.value.IsNull()) {
    return items;
  }
  if (!entry.value.IsSequence()) {
    errors(entry.value_position(),
           entry.key + " must be a list of strings, got " + KindName(entry.value));
    return items;
  }
  for (const YAML::Node& item : entry.value) {
    if (!item.IsScalar()) {
      errors(PositionOf(item),
             "entries of " + entry.key + " must be strings, got " + KindName(item));
      continue;
    }
    items.push_back(StringItem{"", item.Scalar(), {}, PositionOf(item), item});
  }
  return items;
}

std::optional<std::vector<std::string>> ReadStringList(const Entry& entry,
                                                       const ErrorSink& errors) {
  if (entry.value.IsNull()) {
    return std::nullopt;
  }
  std::vector<std::string> values;
  for (StringItem& item : ReadStringItems(entry, errors)) {
    values.push_back(std::move(item.value));
  }
  return values;
}

std::vector<StringItem> ReadStringMap(const Entry& entry, const ErrorSink& errors) {
  std::vector<StringItem> items;
  if (entry.value.IsNull()) {
    return items;
  }
  if (!entry.value.IsMap()) {
    errors(entry.value_position(),
           entry.key + " must be a mapping of names to strings, got " + KindName(entry.value));
    return items;
  }
  for (auto it = entry.value.begin(); it != entry.value.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar()) {
      errors(PositionOf(key), "names in " + entry.key + " must be strings, got " + KindName(key));
      continue;
    }
    auto previous = std::find_if(items.begin(), items.end(), [&](const StringItem& item) {
      return item.key == key.Scalar();
    });
    if (previous != items.end()) {
      errors(PositionOf(key),
             "duplicate name " + Quote(key.Scalar()) + " in " + entry.key +
                 "; it is already set at line " + std::to_string(previous->key_position.line));
      continue;
    }
    Position key_position = PositionOf(key);
    if (value.IsNull()) {
      items.push_back(StringItem{key.Scalar(), "", key_position, key_position, YAML::Node()});
      continue;
    }
    if (!value.IsScalar()) {
      errors(PositionOf(value),
             "value of " + Quote(key.Scalar()) + " in " + entry.key + " must be a string, got " +
                 KindName(value));
      continue;
    }
    items.push_back(
        StringItem{key.Scalar(), value.Scalar(), key_position, PositionOf(value), value});
  }
  return items;
}

ScalarLocator::ScalarLocator(const SourceLines& source, const YAML::Node& node)
    : fallback_(PositionOf(node)) {
  if (!node.IsScalar() || node.Mark().is_null()) {
    return;
  }
  value_ = node.Scalar();
  YAML::Mark mark = node.Mark();
  auto line = static_cast<size_t>(mark.line);
  auto column = static_cast<size_t>(mark.column);
  const std::vector<std::string_view>& lines = source.lines();
  if (line >= lines.size()) {
    return;
  }
  std::string_view text = lines[line];

  // A tag (!!str) or an anchor (&name) may come before the value on the same line.
  while (column < text.size() && (text[column] == '!' || text[column] == '&')) {
    while (column < text.size() && text[column] != ' ') {
      ++column;
    }
    while (column < text.size() && text[column] == ' ') {
      ++column;
    }
  }
  if (column >= text.size()) {
    return;
  }
  switch (text[column]) {
    case '|':
      style_ = Style::kLiteral;
      SplitBlock(lines, line);
      return;
    case '>':
      style_ = Style::kFolded;
      SplitBlock(lines, line);
      return;
    case '"':
      style_ = Style::kDoubleQuoted;
      SplitFlow(lines, line, column + 1);
      return;
    case '\'':
      style_ = Style::kSingleQuoted;
      SplitFlow(lines, line, column + 1);
      return;
    default:
      style_ = Style::kPlain;
      SplitFlow(lines, line, column);
      return;
  }
}

void ScalarLocator::SplitBlock(const std::vector<std::string_view>& lines, size_t header_line) {
  // NOTE: an explicit indentation indicator (`|2`) is ignored: the indentation is taken from
  // the first non-blank line, which differs only when that line is indented further.
  size_t indent = 0;
  for (size_t i = header_line + 1; i < lines.size(); ++i) {
    if (LeadingSpaces(lines[i]) < lines[i].size()) {
      indent = LeadingSpaces(lines[i]);
      break;
    }
  }
  for (size_t i = header_line + 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    bool blank = LeadingSpaces(line) == line.size();
    if (!blank && LeadingSpaces(line) < indent) {
      break;
    }
    Segment segment;
    segment.line = static_cast<int>(i) + 1;
    segment.column = static_cast<int>(indent) + 1;
    segment.length = line.size() > indent ? line.size() - indent : 0;
    segment.blank = blank;
    segments_.push_back(segment);
  }
}

void ScalarLocator::SplitFlow(const std::vector<std::string_view>& lines,
                              size_t line,
                              size_t column) {
  size_t consumed = 0;
  for (size_t i = line; i < lines.size() && consumed <= value_.size(); ++i) {
    size_t start = i == line ? column : LeadingSpaces(lines[i]);
    Segment segment;
    segment.line = static_cast<int>(i) + 1;
    segment.column = static_cast<int>(start) + 1;
    segment.length = lines[i].size() > start ? lines[i].size() - start : 0;
    segment.blank = i != line && segment.length == 0;
    segments_.push_back(segment);
    consumed += segment.length + 1;
  }
}

Position ScalarLocator::Locate(size_t offset) const {
  if (segments_.empty()) {
    return fallback_;
  }
  offset = std::min(offset, value_.size());
  bool folding = style_ != Style::kLiteral;
  size_t consumed = 0;
  bool previous_blank = false;
  const Segment* last_text = nullptr;
  for (const Segment& segment : segments_) {
    if (folding && segment.blank) {
      // In folded text the first blank line turns the preceding line break into a newline
      // and adds no character; each further blank line adds one.
      consumed += previous_blank ? 1 : 0;
      previous_blank = true;
      continue;
    }
    previous_blank = false;
    last_text = &segment;
    size_t remaining = offset - std::min(offset, consumed);
    if (remaining <= segment.length || consumed + segment.length + 1 >= value_.size()) {
      remaining = std::min(remaining, segment.length);
      return {segment.line, segment.column + static_cast<int>(remaining)};
    }
    consumed += segment.length + 1;
  }
  if (last_text == nullptr) {
    return fallback_;
  }
  return {last_text->line, last_text->column + static_cast<int>(last_text->length)};
}

Position ScalarLocator::Locate(int line, int column) const {
  if (line <= 0) {
    return Start();
  }
  size_t offset = 0;
  for (int i = 1; i < line; ++i) {
    size_t newline = value_.find('\n', offset);
    if (newline == std::string::npos) {
      return Locate(value_.size());
    }
    offset = newline + 1;
  }
  return Locate(offset + static_cast<size_t>(std::max(column, 1) - 1));
}

Result<std::string> ReadTextFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error::Io(std::strerror(errno));
  }

  struct stat info {};

  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
    ::close(fd);
    return Error::Io(std::strerror(EISDIR));
  }
  std::string text;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return Error::Io(std::strerror(error));
    }
    if (n == 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code_point = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) {
      return false;
    }
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return false;
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Overlong encodings, UTF-16 surrogates and values past U+10FFFF are invalid, as in Go.
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace alertd::yaml
