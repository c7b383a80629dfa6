// Parsing of the mail the email notifier writes, for its tests: header fields, and the parts of
// a multipart/alternative body.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace alertd::testing {

struct ParsedPart {
  std::map<std::string, std::string> headers;
  std::string body;  // still quoted-printable
};

struct ParsedMail {
  std::vector<std::pair<std::string, std::string>> headers;  // in order, values unfolded
  std::string boundary;
  std::vector<ParsedPart> parts;
  std::string closing;  // the text from the last delimiter on

  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) {
        return value;
      }
    }
    return {};
  }

  size_t Count(std::string_view name) const {
    size_t n = 0;
    for (const auto& header : headers) {
      n += header.first == name ? 1 : 0;
    }
    return n;
  }
};

inline std::vector<std::pair<std::string, std::string>> ParseHeaderBlock(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> headers;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) {
      end = block.size();
    }
    std::string_view line = block.substr(pos, end - pos);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !headers.empty()) {
      headers.back().second += std::string(line);
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') {
        value.remove_prefix(1);
      }
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    pos = end + 2;
  }
  return headers;
}

inline ParsedMail ParseMail(std::string_view data) {
  ParsedMail mail;
  size_t head_end = data.find("\r\n\r\n");
  mail.headers = ParseHeaderBlock(data.substr(0, head_end));
  std::string content_type = mail.Header("Content-Type");
  size_t b = content_type.find("boundary=");
  if (b == std::string::npos || head_end == std::string_view::npos) {
    return mail;
  }
  mail.boundary = content_type.substr(b + 9);
  std::string_view body = data.substr(head_end + 4);
  const std::string delimiter = "--" + mail.boundary;
  size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos) {
    size_t start = pos + delimiter.size();
    if (body.substr(start, 2) == "--") {
      mail.closing = std::string(body.substr(pos));
      break;
    }
    size_t next = body.find("\r\n" + delimiter, start);
    if (next == std::string_view::npos) {
      break;
    }
    std::string_view part = body.substr(start + 2, next - start - 2);
    size_t part_head_end = part.find("\r\n\r\n");
    ParsedPart parsed;
    for (auto& [key, value] : ParseHeaderBlock(part.substr(0, part_head_end))) {
      parsed.headers[key] = value;
    }
    parsed.body = std::string(part.substr(part_head_end + 4));
    mail.parts.push_back(std::move(parsed));
    pos = next + 2;
  }
  return mail;
}

}  // namespace alertd::testing
