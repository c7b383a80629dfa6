#include "notifiers/email/mime.h"

#include <cstdint>

namespace alertd {

namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";

// Go's mime package: an encoded word is at most 75 characters, of which "=?UTF-8?q?" and "?="
// take 12.
constexpr size_t kMaxWordContent = 75 - 10 - 2;

// Go's quotedprintable lineMaxLen, soft-break '=' included, CRLF not.
constexpr size_t kMaxQpLine = 76;

bool NeedsEncoding(std::string_view value) {
  for (char c : value) {
    unsigned char b = static_cast<unsigned char>(c);
    if ((b < ' ' || b > '~') && b != '\t') {
      return true;
    }
  }
  return false;
}

bool IsQLiteral(unsigned char b) {
  return b >= '!' && b <= '~' && b != '=' && b != '?' && b != '_';
}

// Length of the UTF-8 sequence starting at value[i]; 1 for a byte that starts none, as Go's
// utf8.DecodeRuneInString reports for invalid input.
size_t RuneLength(std::string_view value, size_t i) {
  unsigned char lead = static_cast<unsigned char>(value[i]);
  size_t length = 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
  }
  if (i + length > value.size()) {
    return 1;
  }
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(value[i + k]) & 0xc0) != 0x80) {
      return 1;
    }
  }
  return length;
}

void AppendHex(std::string& out, unsigned char b) {
  out += '=';
  out += kUpperHex[b >> 4];
  out += kUpperHex[b & 0x0f];
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string DecodeBase64(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else {
      continue;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string DecodeQWord(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_') {
      out += ' ';
    } else if (text[i] == '=' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Go's quotedprintable.Writer in text mode; the member names follow Go's fields.
class QuotedPrintableWriter {
 public:
  void Write(std::string_view text) {
    for (char c : text) {
      unsigned char b = static_cast<unsigned char>(c);
      const bool literal =
          (b >= '!' && b <= '~' && b != '=') || b == ' ' || b == '\t' || b == '\n' || b == '\r';
      if (literal) {
        WriteRaw(b);
      } else {
        Encode(b);
      }
    }
  }

  std::string Close() {
    CheckLastByte();
    Flush();
    return std::move(out_);
  }

 private:
  void WriteRaw(unsigned char b) {
    if (b == '\n' || b == '\r') {
      // A CRLF pair is one line break.
      if (cr_ && b == '\n') {
        cr_ = false;
        return;
      }
      cr_ = b == '\r';
      CheckLastByte();
      InsertCrlf();
      return;
    }
    if (line_.size() == kMaxQpLine - 1) {
      InsertSoftLineBreak();
    }
    line_ += static_cast<char>(b);
    cr_ = false;
  }

  void Encode(unsigned char b) {
    if (kMaxQpLine - 1 - line_.size() < 3) {
      InsertSoftLineBreak();
    }
    AppendHex(line_, b);
  }

  // Whitespace before a line break would be lost in transit, so it is encoded.
  void CheckLastByte() {
    if (line_.empty()) {
      return;
    }
    char last = line_.back();
    if (last == ' ' || last == '\t') {
      line_.pop_back();
      Encode(static_cast<unsigned char>(last));
    }
  }

  void InsertSoftLineBreak() {
    line_ += '=';
    InsertCrlf();
  }

  void InsertCrlf() {
    line_ += "\r\n";
    Flush();
  }

  void Flush() {
    out_ += line_;
    line_.clear();
  }

  std::string out_;
  std::string line_;
  bool cr_ = false;
};

}  // namespace

std::string EncodeHeaderWord(std::string_view value) {
  if (!NeedsEncoding(value)) {
    return std::string(value);
  }
  constexpr std::string_view kOpen = "=?utf-8?q?";
  constexpr std::string_view kClose = "?=";
  std::string out(kOpen);
  size_t current = 0;
  size_t rune_length = 1;
  for (size_t i = 0; i < value.size(); i += rune_length) {
    unsigned char b = static_cast<unsigned char>(value[i]);
    size_t encoded_length;
    if (b == ' ' || IsQLiteral(b)) {
      rune_length = 1;
      encoded_length = 1;
    } else {
      rune_length = RuneLength(value, i);
      encoded_length = 3 * rune_length;
    }
    if (current + encoded_length > kMaxWordContent) {
      out += kClose;
      out += ' ';
      out += kOpen;
      current = 0;
    }
    for (size_t k = i; k < i + rune_length; ++k) {
      unsigned char byte = static_cast<unsigned char>(value[k]);
      if (byte == ' ') {
        out += '_';
      } else if (IsQLiteral(byte)) {
        out += static_cast<char>(byte);
      } else {
        AppendHex(out, byte);
      }
    }
    current += encoded_length;
  }
  out += kClose;
  return out;
}

std::string DecodeHeaderWords(std::string_view value) {
  std::string out;
  size_t pos = 0;
  bool last_was_word = false;
  while (pos < value.size()) {
    size_t start = value.find("=?", pos);
    if (start == std::string_view::npos) {
      out += value.substr(pos);
      break;
    }
    size_t charset_end = value.find('?', start + 2);
    size_t end = charset_end == std::string_view::npos ? std::string_view::npos
                                                       : value.find("?=", charset_end + 3);
    if (charset_end == std::string_view::npos || end == std::string_view::npos ||
        charset_end + 2 >= value.size() || value[charset_end + 2] != '?') {
      out += value.substr(pos);
      break;
    }
    std::string_view between = value.substr(pos, start - pos);
    // RFC 2047 section 6.2: whitespace between two encoded words is not displayed.
    if (!(last_was_word && between.find_first_not_of(" \t\r\n") == std::string_view::npos)) {
      out += between;
    }
    char encoding = value[charset_end + 1];
    std::string_view text = value.substr(charset_end + 3, end - charset_end - 3);
    out += (encoding == 'b' || encoding == 'B') ? DecodeBase64(text) : DecodeQWord(text);
    last_was_word = true;
    pos = end + 2;
  }
  return out;
}

std::string EncodeQuotedPrintable(std::string_view text) {
  QuotedPrintableWriter writer;
  writer.Write(text);
  return writer.Close();
}

std::string DecodeQuotedPrintable(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    if (text.substr(i + 1, 2) == "\r\n") {
      i += 2;
    } else if (i + 1 < text.size() && text[i + 1] == '\n') {
      i += 1;
    } else if (i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string StripLineBreaks(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  return out;
}

std::string CanonicalHeaderName(std::string_view name) {
  if (name.empty()) {
    return {};
  }
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) {
      return {};
    }
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (!upper && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    out += c;
    upper = c == '-';
  }
  return out;
}

std::string WriteMultipart(std::string_view boundary, const std::vector<MimePart>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    out += i == 0 ? "--" : "\r\n--";
    out += boundary;
    out += "\r\n";
    // Go's multipart.Writer writes the part headers sorted by name.
    out += "Content-Transfer-Encoding: quoted-printable\r\n";
    out += "Content-Type: " + parts[i].content_type + "\r\n\r\n";
    out += EncodeQuotedPrintable(parts[i].body);
  }
  out += "\r\n--";
  out += boundary;
  out += "--\r\n";
  return out;
}

}  // namespace alertd
