// MIME encoding for the email integration, byte for byte as Alertmanager 0.25 writes mail
// through Go's standard library: RFC 2047 "Q" encoded words (mime.QEncoding), quoted-printable
// bodies (mime/quotedprintable) and multipart/alternative parts (mime/multipart).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace alertd {

// Encodes a header value as Go's mime.QEncoding.Encode("utf-8", value): unchanged when every
// byte is printable ASCII or a tab, else a run of "=?utf-8?q?...?=" words of at most 75
// characters each, separated by spaces, never splitting a UTF-8 sequence.
std::string EncodeHeaderWord(std::string_view value);

// Decodes what EncodeHeaderWord produces (and other "=?utf-8?q?" or "=?utf-8?b?" words);
// text outside encoded words is kept. For tests and for reading a header back.
std::string DecodeHeaderWords(std::string_view value);

// Encodes `text` as Go's quotedprintable.Writer in text mode: lines end in CRLF, lines are at
// most 76 characters with "=" soft breaks, and '=', bytes outside printable ASCII and
// whitespace before a line end are written as =XX.
std::string EncodeQuotedPrintable(std::string_view text);

// Decodes quoted-printable text; soft line breaks are removed and CRLF is kept.
std::string DecodeQuotedPrintable(std::string_view text);

// Removes every CR and LF, so an expanded header value cannot start another header.
std::string StripLineBreaks(std::string_view value);

// Returns Go's textproto.CanonicalMIMEHeaderKey of `name` ("message-id" -> "Message-Id"),
// or an empty string when `name` is not a valid header field name (RFC 5322: printable ASCII
// except ':' and space).
std::string CanonicalHeaderName(std::string_view name);

struct MimePart {
  std::string content_type;  // e.g. "text/plain; charset=UTF-8"
  std::string body;          // not yet encoded
};

// Writes the parts as Go's multipart.Writer does, each with Content-Transfer-Encoding
// quoted-printable, followed by the closing delimiter "\r\n--BOUNDARY--\r\n".
std::string WriteMultipart(std::string_view boundary, const std::vector<MimePart>& parts);

}  // namespace alertd
